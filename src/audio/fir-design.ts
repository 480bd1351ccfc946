/**
 * Kaiser-windowed sinc FIR design. The resamplers call these once at module load, so the
 * coefficients follow from (length, cutoff, beta) rather than from pasted arrays.
 * Frequencies are in cycles per sample (0.5 = Nyquist).
 */

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for beta < 20). */
export function besselI0(x: number): number {
  const quarterXSquared = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= quarterXSquared / (k * k);
    sum += term;
  }
  return sum;
}

/** Symmetric Kaiser window; larger beta trades a wider transition band for more stopband attenuation. */
export function kaiserWindow(length: number, beta: number): Float64Array {
  const window = new Float64Array(length);
  const normaliser = besselI0(beta);
  const half = (length - 1) / 2;
  for (let n = 0; n < length; n++) {
    const position = half === 0 ? 0 : (n - half) / half;
    window[n] = besselI0(beta * Math.sqrt(Math.max(0, 1 - position * position))) / normaliser;
  }
  return window;
}

/** Windowed sinc with the -6 dB point at `cutoff`, scaled to exactly unity gain at DC. */
export function kaiserLowpass(length: number, cutoff: number, beta: number): Float64Array {
  const taps = kaiserWindow(length, beta);
  const centre = (length - 1) / 2;
  let sum = 0;
  for (let n = 0; n < length; n++) {
    taps[n] = taps[n]! * 2 * cutoff * sinc(2 * cutoff * (n - centre));
    sum += taps[n]!;
  }
  for (let n = 0; n < length; n++) taps[n] = taps[n]! / sum;
  return taps;
}

/**
 * Half-band low-pass (cutoff 0.25): every second tap is exactly zero except the centre tap, which is 0.5.
 * The other taps are scaled to sum to 0.5 on their own so that, used as a x2 interpolator, both
 * polyphase branches have exactly the same DC gain (unity-DC scaling of the whole filter leaves
 * them slightly unequal and costs about 1 dB of image rejection).
 * `length` must be 3 mod 4 so the outermost taps are non-zero.
 */
export function kaiserHalfBand(length: number, beta: number): Float64Array {
  if (length % 4 !== 3) throw new RangeError(`half-band length must be 3 mod 4, got ${length}`);
  const taps = kaiserLowpass(length, 0.25, beta);
  const centre = (length - 1) / 2;
  let sideSum = 0;
  for (let n = 0; n < length; n++) {
    if ((n - centre) % 2 === 0) taps[n] = 0;
    else sideSum += taps[n]!;
  }
  for (let n = 0; n < length; n++) taps[n] = (taps[n]! * 0.5) / sideSum;
  taps[centre] = 0.5;
  return taps;
}

/** |H(f)| of a real FIR, for documenting and checking designs analytically. */
export function firMagnitude(taps: ArrayLike<number>, frequency: number): number {
  let re = 0;
  let im = 0;
  for (let n = 0; n < taps.length; n++) {
    re += taps[n]! * Math.cos(2 * Math.PI * frequency * n);
    im -= taps[n]! * Math.sin(2 * Math.PI * frequency * n);
  }
  return Math.hypot(re, im);
}

function sinc(x: number): number {
  return x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
}
