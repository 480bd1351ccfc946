import { FRAME_MS } from './format.js';

/**
 * The line's noise floor: the quietest frame of the last NOISE_FLOOR_WINDOW_MS, kept as minima of half-second
 * blocks (minimum statistics, as noise estimators for speech do): speech has pauses between words, noise does not,
 * so the minimum over a couple of seconds is the noise under the speech. Allocation-free per frame.
 */
export const NOISE_FLOOR_WINDOW_MS = 2_000;
const BLOCK_MS = 500;
const FRAMES_PER_BLOCK = BLOCK_MS / FRAME_MS;
const BLOCKS = NOISE_FLOOR_WINDOW_MS / BLOCK_MS;

export class NoiseFloor {
  private readonly blockMinima = new Float64Array(BLOCKS).fill(Number.POSITIVE_INFINITY);
  private block = 0;
  private framesInBlock = 0;
  private blockMinimum = Number.POSITIVE_INFINITY;

  /** One frame's mean square. */
  push(meanSquare: number): void {
    if (meanSquare < this.blockMinimum) this.blockMinimum = meanSquare;
    if (++this.framesInBlock < FRAMES_PER_BLOCK) return;
    this.blockMinima[this.block] = this.blockMinimum;
    this.block = (this.block + 1) % BLOCKS;
    this.framesInBlock = 0;
    this.blockMinimum = Number.POSITIVE_INFINITY;
  }

  /** The noise floor as a mean square; infinite until a first block has been heard. */
  get meanSquare(): number {
    let floor = Number.POSITIVE_INFINITY;
    for (let i = 0; i < BLOCKS; i++) if ((this.blockMinima[i] as number) < floor) floor = this.blockMinima[i] as number;
    return floor;
  }
}
