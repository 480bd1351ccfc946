import { kaiserLowpass } from './fir-design.js';
import { MODEL_OUTPUT_SAMPLE_RATE_HZ } from './format.js';
import { DelayLine, roundToInt16 } from './delay-line.js';

const DECIMATION_FACTOR = 3;
/**
 * 72-tap Kaiser low-pass (beta 5.5) with its -6 dB point at the output Nyquist (4 kHz at 24 kHz):
 * passband flat to +-0.012 dB up to 3.4 kHz, anything that would alias from 4.6 kHz upwards at
 * least 57.9 dB down (docs/audio-dsp.md §4.3).
 */
const LOWPASS_TAPS = 72;
const LOWPASS_BETA = 5.5;
const LOWPASS_CUTOFF = 0.5 / DECIMATION_FACTOR;

const HISTORY_SAMPLES = LOWPASS_TAPS - 1;
const FOLDED_TAPS = LOWPASS_TAPS / 2;
// fourOutputs takes the folded taps three at a time.
if (FOLDED_TAPS % DECIMATION_FACTOR !== 0) throw new Error('Downsampler3x: folded taps must be a multiple of 3');

/** Linear-phase group delay in input samples (half a sample because the length is even). */
export const DOWNSAMPLER_DELAY_SAMPLES_24K = HISTORY_SAMPLES / 2;
export const DOWNSAMPLER_DELAY_MS = (DOWNSAMPLER_DELAY_SAMPLES_24K / MODEL_OUTPUT_SAMPLE_RATE_HZ) * 1000;

/** First half of the symmetric taps; each multiplies the sum of a mirrored pair of samples. */
const FOLDED_COEFFICIENTS = kaiserLowpass(LOWPASS_TAPS, LOWPASS_CUTOFF, LOWPASS_BETA).slice(0, FOLDED_TAPS);

/**
 * Streaming /3 decimator (24 kHz -> 8 kHz). Output m is the filter evaluated at input sample
 * 3m + 2 of the stream, so after any sequence of calls exactly floor(totalInput / 3) samples
 * have been produced, and the values do not depend on how the input was chunked.
 */
export class Downsampler3x {
  /** Upper bound on what one `process` call can return for `inputLength` samples. */
  static maxOutputLength(inputLength: number): number {
    return Math.ceil(inputLength / DECIMATION_FACTOR);
  }

  /** [71 samples of history | current input] */
  private readonly delay = new DelayLine(HISTORY_SAMPLES);
  /** Input samples received since the last output (0..2). */
  private phase = 0;

  /** Writes floor((pending + inputLength) / 3) samples to `output` from `outputOffset` and returns that count. */
  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    const outputLength = Math.floor((this.phase + inputLength) / DECIMATION_FACTOR);
    if (inputLength > input.length || outputOffset < 0 || outputOffset + outputLength > output.length) {
      throw new RangeError(`Downsampler3x: ${outputLength} samples do not fit at offset ${outputOffset} of ${output.length}`);
    }
    const line = this.delay.load(input, inputLength);

    let p = DECIMATION_FACTOR - 1 - this.phase;
    let o = outputOffset;
    for (; p + 3 * DECIMATION_FACTOR < inputLength; p += 4 * DECIMATION_FACTOR, o += 4) fourOutputs(line, p, output, o);
    for (; p < inputLength; p += DECIMATION_FACTOR) {
      const newest = HISTORY_SAMPLES + p;
      let sum = 0;
      for (let k = 0; k < FOLDED_TAPS; k++) sum += FOLDED_COEFFICIENTS[k]! * (line[newest - k]! + line[p + k]!);
      output[o++] = roundToInt16(sum);
    }

    this.phase = (this.phase + inputLength) % DECIMATION_FACTOR;
    this.delay.advance(inputLength);
    return outputLength;
  }

  /** Forgets the history and the decimation phase, as if no audio had been processed yet. */
  reset(): void {
    this.delay.reset();
    this.phase = 0;
  }

}

/**
 * Outputs at input positions p, p + 3, p + 6 and p + 9 at once. Each is still the folded sum taken in
 * the same order (k = 0..35, starting from 0), so the results are bit-identical to one output at a
 * time. Four independent sums keep the floating-point adder busy instead of waiting on one dependency
 * chain, and the samples slide through local variables: output p + 3 needs at tap k + 3 what output p
 * needed at tap k, so taps are taken three at a time (one window per residue of k mod 3) and each tap
 * loads two new samples instead of eight. This halves the time per frame (docs/audio-dsp.md §6 method).
 */
function fourOutputs(line: Float64Array, p: number, output: Int16Array, o: number): void {
  const h = FOLDED_COEFFICIENTS;
  const newest = HISTORY_SAMPLES + p;
  // Newer half of the window for output p + 3K at tap k = 3q + r: line[newest + 3K - k] = aK (r = 0), bK (r = 1), cK (r = 2).
  let a0 = line[newest]!;
  let a1 = line[newest + 3]!;
  let a2 = line[newest + 6]!;
  let a3 = line[newest + 9]!;
  let b0 = line[newest - 1]!;
  let b1 = line[newest + 2]!;
  let b2 = line[newest + 5]!;
  let b3 = line[newest + 8]!;
  let c0 = line[newest - 2]!;
  let c1 = line[newest + 1]!;
  let c2 = line[newest + 4]!;
  let c3 = line[newest + 7]!;
  // Older half: line[p + 3K + k] = dK (r = 0), eK (r = 1), fK (r = 2).
  let d0 = line[p]!;
  let d1 = line[p + 3]!;
  let d2 = line[p + 6]!;
  let d3 = line[p + 9]!;
  let e0 = line[p + 1]!;
  let e1 = line[p + 4]!;
  let e2 = line[p + 7]!;
  let e3 = line[p + 10]!;
  let f0 = line[p + 2]!;
  let f1 = line[p + 5]!;
  let f2 = line[p + 8]!;
  let f3 = line[p + 11]!;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; ; k += 3) {
    let coefficient = h[k]!;
    s0 += coefficient * (a0 + d0);
    s1 += coefficient * (a1 + d1);
    s2 += coefficient * (a2 + d2);
    s3 += coefficient * (a3 + d3);
    coefficient = h[k + 1]!;
    s0 += coefficient * (b0 + e0);
    s1 += coefficient * (b1 + e1);
    s2 += coefficient * (b2 + e2);
    s3 += coefficient * (b3 + e3);
    coefficient = h[k + 2]!;
    s0 += coefficient * (c0 + f0);
    s1 += coefficient * (c1 + f1);
    s2 += coefficient * (c2 + f2);
    s3 += coefficient * (c3 + f3);
    if (k === FOLDED_TAPS - 3) break;
    a3 = a2;
    a2 = a1;
    a1 = a0;
    a0 = line[newest - k - 3]!;
    b3 = b2;
    b2 = b1;
    b1 = b0;
    b0 = line[newest - k - 4]!;
    c3 = c2;
    c2 = c1;
    c1 = c0;
    c0 = line[newest - k - 5]!;
    d0 = d1;
    d1 = d2;
    d2 = d3;
    d3 = line[p + k + 12]!;
    e0 = e1;
    e1 = e2;
    e2 = e3;
    e3 = line[p + k + 13]!;
    f0 = f1;
    f1 = f2;
    f2 = f3;
    f3 = line[p + k + 14]!;
  }
  output[o] = roundToInt16(s0);
  output[o + 1] = roundToInt16(s1);
  output[o + 2] = roundToInt16(s2);
  output[o + 3] = roundToInt16(s3);
}

