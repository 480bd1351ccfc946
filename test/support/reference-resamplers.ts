import { FOLDED_COEFFICIENTS } from '../../src/audio/downsampler-3x.js';
import { EVEN_PHASE_COEFFICIENTS } from '../../src/audio/upsampler-2x.js';

/**
 * The resamplers as the plainest JavaScript: one output at a time, each sum in tap order from 0, the whole input
 * at once. What the WebAssembly kernels must equal bit for bit, whatever the chunking.
 */

const roundToInt16 = (value: number): number => Math.min(32767, Math.max(-32768, Math.round(value)));

export function referenceUpsample2x(input: Int16Array): Int16Array {
  const taps = EVEN_PHASE_COEFFICIENTS.length;
  const history = 2 * taps - 1;
  const x = (n: number): number => (n < 0 ? 0 : input[n]!);
  const output = new Int16Array(2 * input.length);
  for (let i = 0; i < input.length; i++) {
    let sum = 0;
    for (let j = 0; j < taps; j++) sum += EVEN_PHASE_COEFFICIENTS[j]! * (x(i - j) + x(i - history + j));
    output[2 * i] = roundToInt16(sum);
    output[2 * i + 1] = x(i - (taps - 1));
  }
  return output;
}

export function referenceDownsample3x(input: Int16Array): Int16Array {
  const taps = FOLDED_COEFFICIENTS.length;
  const history = 2 * taps - 1;
  const x = (n: number): number => (n < 0 ? 0 : input[n]!);
  const output = new Int16Array(Math.floor(input.length / 3));
  for (let m = 0; m < output.length; m++) {
    const n = 3 * m + 2;
    let sum = 0;
    for (let k = 0; k < taps; k++) sum += FOLDED_COEFFICIENTS[k]! * (x(n - k) + x(n - history + k));
    output[m] = roundToInt16(sum);
  }
  return output;
}
