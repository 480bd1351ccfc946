import { TWILIO_SAMPLE_RATE_HZ } from '../audio/format.js';
import { MULAW_SILENCE_BYTE } from '../audio/mulaw.js';

/** One second of 8 kHz mu-law per block: small enough to allocate per second of call, big enough to be few. */
const BLOCK_SAMPLES = TWILIO_SAMPLE_RATE_HZ;

/**
 * One channel of a call as 8 kHz mu-law samples on a fixed timeline (sample 0 = the start of the
 * call), written at any position in any order. Memory is allocated a second at a time on first
 * write, so holes cost nothing until written and nothing is ever copied to grow. Unwritten samples
 * read as silence. Writes past `capacitySamples` are dropped (and counted), which bounds memory.
 */
export class MulawTimeline {
  private readonly blocks: (Uint8Array | undefined)[] = [];
  /** One past the last sample ever written. */
  private end = 0;
  private dropped = 0;

  constructor(readonly capacitySamples: number) {}

  get lengthSamples(): number {
    return this.end;
  }

  /** Samples that fell past the capacity and were not kept. */
  get droppedSamples(): number {
    return this.dropped;
  }

  write(position: number, samples: Uint8Array): void {
    if (!Number.isInteger(position) || position < 0) throw new RangeError(`timeline position must be a non-negative integer (got ${position})`);
    const kept = Math.max(0, Math.min(samples.length, this.capacitySamples - position));
    this.dropped += samples.length - kept;
    let written = 0;
    while (written < kept) {
      const at = position + written;
      const blockIndex = Math.floor(at / BLOCK_SAMPLES);
      const offset = at - blockIndex * BLOCK_SAMPLES;
      const count = Math.min(kept - written, BLOCK_SAMPLES - offset);
      this.block(blockIndex).set(samples.subarray(written, written + count), offset);
      written += count;
    }
    if (kept > 0) this.end = Math.max(this.end, position + kept);
  }

  /** Copies `out.length` samples from `position` into `out` (silence where nothing was written). */
  read(position: number, out: Uint8Array): void {
    let done = 0;
    while (done < out.length) {
      const at = position + done;
      const blockIndex = Math.floor(at / BLOCK_SAMPLES);
      const offset = at - blockIndex * BLOCK_SAMPLES;
      const count = Math.min(out.length - done, BLOCK_SAMPLES - offset);
      const block = this.blocks[blockIndex];
      if (block === undefined) out.fill(MULAW_SILENCE_BYTE, done, done + count);
      else out.set(block.subarray(offset, offset + count), done);
      done += count;
    }
  }

  private block(index: number): Uint8Array {
    let block = this.blocks[index];
    if (block === undefined) {
      block = new Uint8Array(BLOCK_SAMPLES).fill(MULAW_SILENCE_BYTE);
      this.blocks[index] = block;
    }
    return block;
  }
}
