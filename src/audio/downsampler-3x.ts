import { kaiserLowpass } from './fir-design.js';
import { MODEL_OUTPUT_SAMPLE_RATE_HZ } from './format.js';
import { Downsample3xKernel } from './fir-kernels.js';

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

/** Linear-phase group delay in input samples (half a sample because the length is even). */
export const DOWNSAMPLER_DELAY_SAMPLES_24K = HISTORY_SAMPLES / 2;
export const DOWNSAMPLER_DELAY_MS = (DOWNSAMPLER_DELAY_SAMPLES_24K / MODEL_OUTPUT_SAMPLE_RATE_HZ) * 1000;

/**
 * First half of the symmetric taps; each multiplies the sum of a mirrored pair of samples: the output at input
 * sample n is the sum over k of h[k] * (x[n - k] + x[n - 71 + k]).
 */
export const FOLDED_COEFFICIENTS = kaiserLowpass(LOWPASS_TAPS, LOWPASS_CUTOFF, LOWPASS_BETA).slice(0, FOLDED_TAPS);

/** The ÷3 kernel for this design, shared by every call (fir-kernels.ts). */
const KERNEL = new Downsample3xKernel(FOLDED_COEFFICIENTS);

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

  /** The last 71 input samples. */
  private readonly history = new Int16Array(HISTORY_SAMPLES);
  /** Input samples received since the last output (0..2). */
  private phase = 0;

  /** Writes floor((pending + inputLength) / 3) samples to `output` from `outputOffset` and returns that count. */
  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    const outputLength = Math.floor((this.phase + inputLength) / DECIMATION_FACTOR);
    if (inputLength > input.length || outputOffset < 0 || outputOffset + outputLength > output.length) {
      throw new RangeError(`Downsampler3x: ${outputLength} samples do not fit at offset ${outputOffset} of ${output.length}`);
    }
    KERNEL.process(this.history, this.phase, input, inputLength, output, outputOffset);
    this.phase = (this.phase + inputLength) % DECIMATION_FACTOR;
    return outputLength;
  }

  /** Forgets the history and the decimation phase, as if no audio had been processed yet. */
  reset(): void {
    this.history.fill(0);
    this.phase = 0;
  }
}
