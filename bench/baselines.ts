/**
 * The alternatives the benchmark compares against, as streaming int16 resamplers with the same
 * shape as Upsampler2x / Downsampler3x (so the §8.1 tone procedure and the cost loop treat every
 * candidate alike):
 *
 * - "naive": what the popular Twilio <-> realtime-model samples do. Linear interpolation up (the
 *   midpoint of neighbouring samples, with one sample of state so frames join correctly) and
 *   sample picking down (every third sample, with the phase carried across frames).
 * - libsamplerate-js (a WebAssembly build of libsamplerate), SINC_MEDIUM_QUALITY, through its
 *   streaming `full()` API with preallocated Float32 buffers: the best-known quality option.
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import type { StreamingResampler } from '../test/support/tone-analysis.js';

// A CommonJS (UMD) package: Node exposes it as a default export only.
const { ConverterType, create } = libsamplerate;
type Src = Awaited<ReturnType<typeof create>>;

function checkFits(name: string, outputOffset: number, outputLength: number, capacity: number, inputLength: number, inputCapacity: number): void {
  if (inputLength > inputCapacity || outputOffset < 0 || outputOffset + outputLength > capacity) {
    throw new RangeError(`${name}: ${outputLength} samples do not fit at offset ${outputOffset} of ${capacity}`);
  }
}

/** x2 by linear interpolation: out[2i] = (x[i-1] + x[i]) / 2, out[2i+1] = x[i]. Half an input sample of delay. */
export class LinearUpsampler2x implements StreamingResampler {
  private previous = 0;

  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    checkFits('LinearUpsampler2x', outputOffset, 2 * inputLength, output.length, inputLength, input.length);
    let previous = this.previous;
    for (let i = 0, o = outputOffset; i < inputLength; i++, o += 2) {
      const current = input[i]!;
      output[o] = Math.round((previous + current) / 2);
      output[o + 1] = current;
      previous = current;
    }
    this.previous = previous;
    return 2 * inputLength;
  }
}

/** /3 by keeping every third sample (x[0], x[3], ...), counted across calls. No filter at all. */
export class PickingDownsampler3x implements StreamingResampler {
  /** Input samples to skip before the next one that is kept (0..2). */
  private skip = 0;

  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    const outputLength = Math.max(0, Math.ceil((inputLength - this.skip) / 3));
    checkFits('PickingDownsampler3x', outputOffset, outputLength, output.length, inputLength, input.length);
    let o = outputOffset;
    for (let i = this.skip; i < inputLength; i += 3) output[o++] = input[i]!;
    this.skip = (this.skip - inputLength % 3 + 3) % 3;
    return outputLength;
  }
}

/** Largest chunk (input samples) the libsamplerate wrappers accept without reallocating. */
const LIBSAMPLERATE_MAX_CHUNK = 4096;

/**
 * libsamplerate-js in streaming mode. `full()` keeps the converter state between calls; at the
 * start it holds back output until its filter has enough look-ahead, so the first calls return
 * fewer samples than the rate ratio implies (that hold-back is its added latency).
 */
export class LibsamplerateResampler implements StreamingResampler {
  private readonly floatIn = new Float32Array(LIBSAMPLERATE_MAX_CHUNK);
  private readonly floatOut: Float32Array;
  private readonly frames = { frames: 0 };

  private constructor(
    private readonly src: Src,
    readonly inputRateHz: number,
    readonly outputRateHz: number,
  ) {
    this.floatOut = new Float32Array(Math.ceil((LIBSAMPLERATE_MAX_CHUNK * outputRateHz) / inputRateHz) + 16);
  }

  static async create(inputRateHz: number, outputRateHz: number): Promise<LibsamplerateResampler> {
    const src = await create(1, inputRateHz, outputRateHz, { converterType: ConverterType.SRC_SINC_MEDIUM_QUALITY });
    return new LibsamplerateResampler(src, inputRateHz, outputRateHz);
  }

  /** Back to a fresh converter (libsamplerate-js re-initialises the C state when a setting is assigned). */
  reset(): this {
    this.src.converterType = ConverterType.SRC_SINC_MEDIUM_QUALITY;
    return this;
  }

  process(input: Int16Array, output: Int16Array, outputOffset = 0, inputLength = input.length): number {
    if (inputLength > LIBSAMPLERATE_MAX_CHUNK) {
      // Larger inputs (whole-buffer comparisons) go through in pieces; state carries across.
      let written = 0;
      for (let start = 0; start < inputLength; start += LIBSAMPLERATE_MAX_CHUNK) {
        const length = Math.min(LIBSAMPLERATE_MAX_CHUNK, inputLength - start);
        written += this.process(input.subarray(start, start + length), output, outputOffset + written, length);
      }
      return written;
    }
    const floatIn = this.floatIn.subarray(0, inputLength);
    for (let i = 0; i < inputLength; i++) floatIn[i] = input[i]! / 32768;
    this.src.full(floatIn, this.floatOut, this.frames);
    const produced = this.frames.frames;
    checkFits('LibsamplerateResampler', outputOffset, produced, output.length, inputLength, input.length);
    const floatOut = this.floatOut;
    for (let i = 0; i < produced; i++) {
      const value = Math.round(floatOut[i]! * 32768);
      output[outputOffset + i] = value > 32767 ? 32767 : value < -32768 ? -32768 : value;
    }
    return produced;
  }

  destroy(): void {
    this.src.destroy();
  }
}
