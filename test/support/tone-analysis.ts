/**
 * Tone measurements for stateful int16 resamplers, following docs/audio-dsp.md §8.1:
 * 1 s tones at -6 dBFS fed in 20 ms chunks, analysed over [10 %, 90 %) of the output by a
 * least-squares fit of sinusoids at known frequencies plus DC.
 * Pure and deterministic; shared by the unit tests and the benchmark report.
 */

/** -6 dBFS. */
export const TEST_TONE_AMPLITUDE = 16384;
/** Non-zero so that no tone starts exactly on a zero crossing. */
export const TEST_TONE_PHASE_RAD = 0.1;
export const TEST_TONE_SECONDS = 1;
export const CHUNK_MS = 20;

/** The shape shared by Upsampler2x and Downsampler3x. */
export interface StreamingResampler {
  process(input: Int16Array, output: Int16Array, outputOffset?: number, inputLength?: number): number;
}

export interface ResamplerUnderTest {
  readonly inputRateHz: number;
  readonly outputRateHz: number;
  /** Called once per measurement so that no state leaks between tones. */
  create(): StreamingResampler;
}

export interface ToneComponent {
  readonly frequencyHz: number;
  readonly amplitude: number;
  readonly phaseRad?: number;
}

/** One fitted component: amplitude * sin(2 pi f n / fs + phaseRad), with n counted from the start of the signal. */
export interface SinusoidEstimate {
  readonly frequencyHz: number;
  readonly amplitude: number;
  readonly phaseRad: number;
}

export interface SinusoidFit {
  readonly dc: number;
  readonly sinusoids: readonly SinusoidEstimate[];
  readonly residualSumSquares: number;
  readonly sampleCount: number;
}

export interface SampleWindow {
  readonly start: number;
  readonly end: number;
}

/** round(sum of components), clamped to int16. */
export function generateTones(components: readonly ToneComponent[], sampleRateHz: number, length: number): Int16Array {
  const signal = new Int16Array(length);
  for (let n = 0; n < length; n++) {
    let value = 0;
    for (const { frequencyHz, amplitude, phaseRad = TEST_TONE_PHASE_RAD } of components) {
      value += amplitude * Math.sin((2 * Math.PI * frequencyHz * n) / sampleRateHz + phaseRad);
    }
    signal[n] = Math.max(-32768, Math.min(32767, Math.round(value)));
  }
  return signal;
}

export function generateTone(
  frequencyHz: number,
  sampleRateHz: number,
  length = Math.round(TEST_TONE_SECONDS * sampleRateHz),
  amplitude = TEST_TONE_AMPLITUDE,
  phaseRad = TEST_TONE_PHASE_RAD,
): Int16Array {
  return generateTones([{ frequencyHz, amplitude, phaseRad }], sampleRateHz, length);
}

/** Section 8.1 step 7: 440 Hz + 1330 Hz at 0.3 FS each, for chunk-invariance checks. */
export function generateTwoToneSignal(sampleRateHz: number, seconds = 2): Int16Array {
  const amplitude = 0.3 * 32768;
  return generateTones(
    [
      { frequencyHz: 440, amplitude },
      { frequencyHz: 1330, amplitude },
    ],
    sampleRateHz,
    Math.round(seconds * sampleRateHz),
  );
}

/** `from`, `from + step`, ... up to and including `to`. */
export function frequencySweep(fromHz: number, toHz: number, stepHz: number): number[] {
  return Array.from({ length: Math.floor((toHz - fromHz) / stepHz) + 1 }, (_, i) => fromHz + i * stepHz);
}

/** Skips the start-up transient and the samples still held back in the filter. */
export function centralWindow(length: number, marginFraction = 0.1): SampleWindow {
  return { start: Math.floor(length * marginFraction), end: Math.floor(length * (1 - marginFraction)) };
}

/**
 * Least-squares fit of DC plus a cos/sin pair per frequency over `window`, via the normal
 * equations (at most a few unknowns, and the basis is nearly orthogonal over many periods).
 */
export function fitSinusoids(
  signal: ArrayLike<number>,
  sampleRateHz: number,
  frequenciesHz: readonly number[],
  window: SampleWindow = centralWindow(signal.length),
): SinusoidFit {
  const unknowns = 1 + 2 * frequenciesHz.length;
  const gram = new Float64Array(unknowns * unknowns);
  const projection = new Float64Array(unknowns);
  const basis = new Float64Array(unknowns);
  const omegas = frequenciesHz.map((f) => (2 * Math.PI * f) / sampleRateHz);
  const fillBasis = (n: number): void => {
    basis[0] = 1;
    omegas.forEach((omega, k) => {
      basis[1 + 2 * k] = Math.sin(omega * n);
      basis[2 + 2 * k] = Math.cos(omega * n);
    });
  };

  for (let n = window.start; n < window.end; n++) {
    fillBasis(n);
    const value = signal[n]!;
    for (let r = 0; r < unknowns; r++) {
      projection[r] = projection[r]! + basis[r]! * value;
      for (let c = 0; c < unknowns; c++) gram[r * unknowns + c] = gram[r * unknowns + c]! + basis[r]! * basis[c]!;
    }
  }
  const solution = solveLinearSystem(gram, projection);

  let residualSumSquares = 0;
  for (let n = window.start; n < window.end; n++) {
    fillBasis(n);
    let model = 0;
    for (let r = 0; r < unknowns; r++) model += solution[r]! * basis[r]!;
    residualSumSquares += (signal[n]! - model) ** 2;
  }

  return {
    dc: solution[0]!,
    sinusoids: frequenciesHz.map((frequencyHz, k) => {
      const sinWeight = solution[1 + 2 * k]!;
      const cosWeight = solution[2 + 2 * k]!;
      return { frequencyHz, amplitude: Math.hypot(sinWeight, cosWeight), phaseRad: Math.atan2(cosWeight, sinWeight) };
    }),
    residualSumSquares,
    sampleCount: window.end - window.start,
  };
}

/** Solves A x = b for a small dense row-major A by Gaussian elimination with partial pivoting. */
export function solveLinearSystem(matrix: Float64Array, rhs: Float64Array): Float64Array {
  const size = rhs.length;
  const a = Float64Array.from(matrix);
  const x = Float64Array.from(rhs);
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) if (Math.abs(a[r * size + col]!) > Math.abs(a[pivot * size + col]!)) pivot = r;
    if (Math.abs(a[pivot * size + col]!) < 1e-12) throw new Error('solveLinearSystem: singular matrix');
    if (pivot !== col) {
      for (let c = 0; c < size; c++) swap(a, col * size + c, pivot * size + c);
      swap(x, col, pivot);
    }
    for (let r = col + 1; r < size; r++) {
      const factor = a[r * size + col]! / a[col * size + col]!;
      for (let c = col; c < size; c++) a[r * size + c] = a[r * size + c]! - factor * a[col * size + c]!;
      x[r] = x[r]! - factor * x[col]!;
    }
  }
  for (let r = size - 1; r >= 0; r--) {
    let sum = x[r]!;
    for (let c = r + 1; c < size; c++) sum -= a[r * size + c]! * x[c]!;
    x[r] = sum / a[r * size + r]!;
  }
  return x;
}

export function amplitudeRatioDb(amplitude: number, reference: number): number {
  return 20 * Math.log10(amplitude / reference);
}

/** Everything but the first fitted sinusoid and DC, relative to that sinusoid's power. */
export function thdPlusNDb(fit: SinusoidFit): number {
  const fundamental = fit.sinusoids[0];
  if (!fundamental) throw new Error('thdPlusNDb: the fit has no sinusoid');
  return 10 * Math.log10(fit.residualSumSquares / ((fit.sampleCount * fundamental.amplitude ** 2) / 2));
}

/** Where a tone at `frequencyHz` lands after sampling at `sampleRateHz` (folded into 0..fs/2). */
export function aliasFrequencyHz(frequencyHz: number, sampleRateHz: number): number {
  const wrapped = frequencyHz % sampleRateHz;
  return wrapped > sampleRateHz / 2 ? sampleRateHz - wrapped : wrapped;
}

/** Largest sample-wise difference; Infinity when the lengths differ. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Small deterministic PRNG (mulberry32) for reproducible random chunk sizes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feeds `input` in chunks of `nextChunkLength()` samples and returns the concatenated output. */
export function processInChunks(
  resampler: StreamingResampler,
  input: Int16Array,
  outputRatio: number,
  nextChunkLength: () => number,
): Int16Array {
  const output = new Int16Array(Math.ceil(input.length * outputRatio) + 1);
  let written = 0;
  for (let start = 0; start < input.length; ) {
    const length = Math.min(Math.max(1, nextChunkLength()), input.length - start);
    written += resampler.process(input.subarray(start, start + length), output, written);
    start += length;
  }
  return output.slice(0, written);
}

/** Section 8.1 step 1: fresh resampler, 20 ms chunks. */
export function resampleInFrames(device: ResamplerUnderTest, input: Int16Array): Int16Array {
  const chunkLength = (device.inputRateHz * CHUNK_MS) / 1000;
  return processInChunks(device.create(), input, device.outputRateHz / device.inputRateHz, () => chunkLength);
}

function fitToneResponse(device: ResamplerUnderTest, inputHz: number, fitHz: readonly number[]): SinusoidFit {
  const output = resampleInFrames(device, generateTone(inputHz, device.inputRateHz));
  return fitSinusoids(output, device.outputRateHz, fitHz);
}

/** Output level of an in-band tone relative to its input level. */
export function measureGainDb(device: ResamplerUnderTest, frequencyHz: number): number {
  const [tone] = fitToneResponse(device, frequencyHz, [frequencyHz]).sinusoids;
  return amplitudeRatioDb(tone!.amplitude, TEST_TONE_AMPLITUDE);
}

/** Residual after removing the tone and DC (so images and aliases count as distortion). */
export function measureThdPlusNDb(device: ResamplerUnderTest, frequencyHz: number): number {
  return thdPlusNDb(fitToneResponse(device, frequencyHz, [frequencyHz]));
}

/** Interpolator: how far below the input tone its image at inputRate - f lies. */
export function measureImageRejectionDb(device: ResamplerUnderTest, frequencyHz: number): number {
  const imageHz = device.inputRateHz - frequencyHz;
  const [, image] = fitToneResponse(device, frequencyHz, [frequencyHz, imageHz]).sinusoids;
  return -amplitudeRatioDb(image!.amplitude, TEST_TONE_AMPLITUDE);
}

/** Decimator: how far below an out-of-band input tone its alias in the output band lies. */
export function measureAliasRejectionDb(device: ResamplerUnderTest, frequencyHz: number): number {
  const aliasHz = aliasFrequencyHz(frequencyHz, device.outputRateHz);
  if (aliasHz === 0 || aliasHz === device.outputRateHz / 2) throw new RangeError(`alias of ${frequencyHz} Hz is at DC or Nyquist`);
  const [alias] = fitToneResponse(device, frequencyHz, [aliasHz]).sinusoids;
  return -amplitudeRatioDb(alias!.amplitude, TEST_TONE_AMPLITUDE);
}

/**
 * Group delay -d(phase)/d(omega) from the output phases of two tones `spacingHz` apart around
 * `centreHz`, with output sample m taken to represent time m / outputRate. Unambiguous up to
 * 1 / spacingHz (10 ms by default).
 */
export function measureGroupDelayMs(device: ResamplerUnderTest, centreHz: number, spacingHz = 100): number {
  const phaseAt = (frequencyHz: number): number => {
    const [tone] = fitToneResponse(device, frequencyHz, [frequencyHz]).sinusoids;
    return tone!.phaseRad;
  };
  const lowHz = centreHz - spacingHz / 2;
  const phaseDrop = phaseAt(lowHz) - phaseAt(lowHz + spacingHz);
  const wrapped = ((phaseDrop % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
  return (wrapped / (2 * Math.PI * spacingHz)) * 1000;
}

function swap(array: Float64Array, i: number, j: number): void {
  const held = array[i]!;
  array[i] = array[j]!;
  array[j] = held;
}
