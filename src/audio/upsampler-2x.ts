import { kaiserHalfBand } from './fir-design.js';
import { MODEL_INPUT_SAMPLE_RATE_HZ } from './format.js';

/**
 * 47-tap Kaiser half-band (beta 5.4): passband flat to +-0.013 dB up to 3.4 kHz, images of
 * inputs up to 3.4 kHz at least 56.5 dB down (audio-dsp.md section 4.2). 47 = 4k + 3, so the
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
  /** [23 samples of history | current input]; grows only when a larger chunk than ever before arrives. */
  private line = new Float64Array(HISTORY_SAMPLES);

  /** Writes exactly `2 * inputLength` samples to `output` from `outputOffset` and returns that count. */
  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    const outputLength = 2 * inputLength;
    if (inputLength > input.length || outputOffset < 0 || outputOffset + outputLength > output.length) {
      throw new RangeError(`Upsampler2x: ${outputLength} samples do not fit at offset ${outputOffset} of ${output.length}`);
    }
    const line = this.lineFor(inputLength);
    for (let i = 0; i < inputLength; i++) line[HISTORY_SAMPLES + i] = input[i]!;

    const c = EVEN_PHASE_COEFFICIENTS;
    for (let i = 0, o = outputOffset; i < inputLength; i++, o += 2) {
      const newest = HISTORY_SAMPLES + i;
      let sum = 0;
      for (let j = 0; j < FOLDED_TAPS; j++) sum += c[j]! * (line[newest - j]! + line[i + j]!);
      output[o] = roundToInt16(sum);
      output[o + 1] = line[newest - COPY_DELAY_SAMPLES]!;
    }

    line.copyWithin(0, inputLength, inputLength + HISTORY_SAMPLES);
    return outputLength;
  }

  /** Forgets the history, as if no audio had been processed yet. */
  reset(): void {
    this.line.fill(0, 0, HISTORY_SAMPLES);
  }

  private lineFor(inputLength: number): Float64Array {
    if (HISTORY_SAMPLES + inputLength > this.line.length) {
      const grown = new Float64Array(HISTORY_SAMPLES + inputLength);
      grown.set(this.line.subarray(0, HISTORY_SAMPLES));
      this.line = grown;
    }
    return this.line;
  }
}

function roundToInt16(value: number): number {
  const rounded = Math.round(value);
  return rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
}
