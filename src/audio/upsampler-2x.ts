import { kaiserHalfBand } from './fir-design.js';
import { MODEL_INPUT_SAMPLE_RATE_HZ } from './format.js';
import { Upsample2xKernel } from './fir-kernels.js';

/**
 * 47-tap Kaiser half-band (beta 5.4): passband flat to +-0.013 dB up to 3.4 kHz, images of
 * inputs up to 3.4 kHz at least 56.5 dB down (docs/audio-dsp.md §4.2). 47 = 4k + 3, so the
 * outermost taps are non-zero and none is wasted.
 */
const HALF_BAND_TAPS = 47;
const HALF_BAND_BETA = 5.4;

/** Input samples the filter spans beyond the current one. */
const HISTORY_SAMPLES = (HALF_BAND_TAPS - 1) / 2;
/** The even phase is a symmetric 24-tap dot product, folded to 12 multiplies. */
const FOLDED_TAPS = (HISTORY_SAMPLES + 1) / 2;

/** Linear-phase group delay in output samples; the same for both polyphase branches. */
export const UPSAMPLER_DELAY_SAMPLES_16K = HISTORY_SAMPLES;
export const UPSAMPLER_DELAY_MS = (UPSAMPLER_DELAY_SAMPLES_16K / MODEL_INPUT_SAMPLE_RATE_HZ) * 1000;

/**
 * Even-phase coefficients (x2 for interpolation gain), first half only since they are symmetric. Even output i is
 * the sum over j of c[j] * (x[i - j] + x[i - 23 + j]); the odd output is the centre tap alone, x[i - 11].
 */
export const EVEN_PHASE_COEFFICIENTS = (() => {
  const halfBand = kaiserHalfBand(HALF_BAND_TAPS, HALF_BAND_BETA);
  const folded = new Float64Array(FOLDED_TAPS);
  for (let j = 0; j < FOLDED_TAPS; j++) folded[j] = 2 * halfBand[2 * j]!;
  return folded;
})();

/** The ×2 kernel for this design, shared by every call (fir-kernels.ts). */
const KERNEL = new Upsample2xKernel(EVEN_PHASE_COEFFICIENTS);

/**
 * Streaming x2 interpolator (8 kHz -> 16 kHz). Output depends only on the concatenated input,
 * never on how it was chunked, because every output is computed by the same expression over
 * the input with the last 23 input samples carried across calls.
 */
export class Upsampler2x {
  /** The last 23 input samples. */
  private readonly history = new Int16Array(HISTORY_SAMPLES);

  /** Writes exactly `2 * inputLength` samples to `output` from `outputOffset` and returns that count. */
  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    const outputLength = 2 * inputLength;
    if (inputLength > input.length || outputOffset < 0 || outputOffset + outputLength > output.length) {
      throw new RangeError(`Upsampler2x: ${outputLength} samples do not fit at offset ${outputOffset} of ${output.length}`);
    }
    KERNEL.process(this.history, input, inputLength, output, outputOffset);
    return outputLength;
  }

  /** Forgets the history, as if no audio had been processed yet. */
  reset(): void {
    this.history.fill(0);
  }
}
