import { mulawDecodeSample } from './mulaw.js';

/**
 * Loudness of mu-law audio. A frame's energy is one table lookup and one add per sample: the squared sample
 * value of each of the 256 codes is computed once.
 */

export const MULAW_SQUARED_SAMPLE = Float64Array.from({ length: 256 }, (_, code) => mulawDecodeSample(code) ** 2);
const FULL_SCALE_SQUARED = 32768 ** 2;

/** Mean square of `mulaw[start, end)`, in squared int16 units. */
export function mulawMeanSquare(mulaw: Uint8Array, start = 0, end = mulaw.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += MULAW_SQUARED_SAMPLE[mulaw[i] as number] as number;
  return end <= start ? 0 : sum / (end - start);
}

/** RMS level relative to full scale (a full-scale sine reads −3 dBFS); −Infinity for digital silence. */
export function meanSquareToDbfs(meanSquare: number): number {
  return 10 * Math.log10(meanSquare / FULL_SCALE_SQUARED);
}

export function dbfsToMeanSquare(dbfs: number): number {
  return FULL_SCALE_SQUARED * 10 ** (dbfs / 10);
}
