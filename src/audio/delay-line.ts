/**
 * A streaming FIR's input as float samples: [history | current chunk]. The history (the last
 * `historyLength` samples of the previous chunk) is what makes the output independent of how the
 * stream was chunked. The buffer grows only when a larger chunk than ever before arrives.
 */
export class DelayLine {
  private samples: Float64Array;

  constructor(readonly historyLength: number) {
    this.samples = new Float64Array(historyLength);
  }

  /** Places `inputLength` samples of `input` after the history and returns the whole line. */
  load(input: Int16Array, inputLength: number): Float64Array {
    if (this.historyLength + inputLength > this.samples.length) {
      const grown = new Float64Array(this.historyLength + inputLength);
      grown.set(this.samples.subarray(0, this.historyLength));
      this.samples = grown;
    }
    // TypedArray#set converts Int16 to Float64 natively, about four times faster than a loop.
    this.samples.set(inputLength === input.length ? input : input.subarray(0, inputLength), this.historyLength);
    return this.samples;
  }

  /** After a chunk of `inputLength` samples: its newest samples become the next chunk's history. */
  advance(inputLength: number): void {
    this.samples.copyWithin(0, inputLength, inputLength + this.historyLength);
  }

  /** Forgets the history, as if no audio had been processed yet. */
  reset(): void {
    this.samples.fill(0, 0, this.historyLength);
  }
}

/** A filter output as a PCM16 sample: rounded, and clamped rather than wrapped on overshoot. */
export function roundToInt16(value: number): number {
  const rounded = Math.round(value);
  return rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
}
