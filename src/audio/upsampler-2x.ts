import { kaiserHalfBand } from './fir-design.js';
import { MODEL_INPUT_SAMPLE_RATE_HZ } from './format.js';
import { DelayLine, roundToInt16 } from './delay-line.js';

/**
 * 47-tap Kaiser half-band (beta 5.4): passband flat to +-0.013 dB up to 3.4 kHz, images of
 * inputs up to 3.4 kHz at least 56.5 dB down (docs/audio-dsp.md §4.2). 47 = 4k + 3, so the
 * outermost taps are non-zero and none is wasted.
 */
const HALF_BAND_TAPS = 47;
const HALF_BAND_BETA = 5.4;

/** Input samples the filter spans beyond the current one. */
const HISTORY_SAMPLES = (HALF_BAND_TAPS - 1) / 2;
/** The odd-phase output is the centre tap alone: the input delayed by this many input samples. */
const COPY_DELAY_SAMPLES = (HISTORY_SAMPLES - 1) / 2;
/** The even phase is a symmetric 24-tap dot product, folded to 12 multiplies. */
const FOLDED_TAPS = (HISTORY_SAMPLES + 1) / 2;

/** Linear-phase group delay in output samples; the same for both polyphase branches. */
export const UPSAMPLER_DELAY_SAMPLES_16K = HISTORY_SAMPLES;
export const UPSAMPLER_DELAY_MS = (UPSAMPLER_DELAY_SAMPLES_16K / MODEL_INPUT_SAMPLE_RATE_HZ) * 1000;

/** Even-phase coefficients (x2 for interpolation gain), first half only since they are symmetric. */
const EVEN_PHASE_COEFFICIENTS = (() => {
  const halfBand = kaiserHalfBand(HALF_BAND_TAPS, HALF_BAND_BETA);
  const folded = new Float64Array(FOLDED_TAPS);
  for (let j = 0; j < FOLDED_TAPS; j++) folded[j] = 2 * halfBand[2 * j]!;
  return folded;
})();

/**
 * Streaming x2 interpolator (8 kHz -> 16 kHz). Output depends only on the concatenated input,
 * never on how it was chunked, because every output is computed by the same expression over
 * a delay line that carries the last 23 input samples across calls.
 */
export class Upsampler2x {
  /** [23 samples of history | current input] */
  private readonly delay = new DelayLine(HISTORY_SAMPLES);

  /** Writes exactly `2 * inputLength` samples to `output` from `outputOffset` and returns that count. */
  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    const outputLength = 2 * inputLength;
    if (inputLength > input.length || outputOffset < 0 || outputOffset + outputLength > output.length) {
      throw new RangeError(`Upsampler2x: ${outputLength} samples do not fit at offset ${outputOffset} of ${output.length}`);
    }
    const line = this.delay.load(input, inputLength);

    let i = 0;
    let o = outputOffset;
    for (; i + 3 < inputLength; i += 4, o += 8) fourOutputPairs(line, i, output, o);
    for (; i < inputLength; i++, o += 2) {
      const newest = HISTORY_SAMPLES + i;
      let sum = 0;
      for (let j = 0; j < FOLDED_TAPS; j++) sum += EVEN_PHASE_COEFFICIENTS[j]! * (line[newest - j]! + line[i + j]!);
      output[o] = roundToInt16(sum);
      output[o + 1] = line[newest - COPY_DELAY_SAMPLES]!;
    }

    this.delay.advance(inputLength);
    return outputLength;
  }

  /** Forgets the history, as if no audio had been processed yet. */
  reset(): void {
    this.delay.reset();
  }

}

/**
 * The output pairs of inputs i..i+3 at once. Each even-phase output is still the folded sum taken in
 * the same order (j = 0..11, starting from 0), so the results are bit-identical to one output at a
 * time; what changes is the cost. Four independent sums keep the floating-point adder busy instead of
 * waiting on one dependency chain, and the samples slide through local variables (output i + 1 needs
 * at tap j + 1 what output i needed at tap j), so each tap loads two samples instead of eight.
 * This halves the time per frame (docs/audio-dsp.md §6 method).
 */
function fourOutputPairs(line: Float64Array, i: number, output: Int16Array, o: number): void {
  const c = EVEN_PHASE_COEFFICIENTS;
  const newest = HISTORY_SAMPLES + i;
  // nK = line[newest + K - j] (newer half of the window), oK = line[i + K + j] (older half), for output i + K at tap j.
  let n0 = line[newest]!;
  let n1 = line[newest + 1]!;
  let n2 = line[newest + 2]!;
  let n3 = line[newest + 3]!;
  let o0 = line[i]!;
  let o1 = line[i + 1]!;
  let o2 = line[i + 2]!;
  let o3 = line[i + 3]!;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let j = 0; ; j++) {
    const h = c[j]!;
    s0 += h * (n0 + o0);
    s1 += h * (n1 + o1);
    s2 += h * (n2 + o2);
    s3 += h * (n3 + o3);
    if (j === FOLDED_TAPS - 1) break;
    n3 = n2;
    n2 = n1;
    n1 = n0;
    n0 = line[newest - j - 1]!;
    o0 = o1;
    o1 = o2;
    o2 = o3;
    o3 = line[i + j + 4]!;
  }
  const copied = newest - COPY_DELAY_SAMPLES;
  output[o] = roundToInt16(s0);
  output[o + 1] = line[copied]!;
  output[o + 2] = roundToInt16(s1);
  output[o + 3] = line[copied + 1]!;
  output[o + 4] = roundToInt16(s2);
  output[o + 5] = line[copied + 2]!;
  output[o + 6] = roundToInt16(s3);
  output[o + 7] = line[copied + 3]!;
}

