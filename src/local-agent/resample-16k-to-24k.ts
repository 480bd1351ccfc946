import { kaiserLowpass } from '../audio/fir-design.js';

/**
 * 16 kHz → 24 kHz (×3/2) for local mode's echo: the caller's turn, as the model received it, played back as
 * model audio. Conceptually ×3 zero-stuffing to 48 kHz, a low-pass, then every second sample; computed as a
 * polyphase filter so only the kept outputs are evaluated.
 *
 * The input came from 8 kHz phone audio, so nothing above 4 kHz needs to survive: the cutoff sits at 7 kHz
 * (well inside both Nyquist limits) and a 96-tap Kaiser (beta 8, about 80 dB) leaves no audible images.
 */
const UP = 3;
const DOWN = 2;
const TAPS = 96; // a multiple of UP: every phase has TAPS / UP taps
const CUTOFF_AT_48K = 7_000 / 48_000;
const BETA = 8;

/** Per phase p (0..UP-1): the taps applied to input x[n - k], scaled by UP for the zero-stuffing loss. */
const PHASES: Float64Array[] = (() => {
  const prototype = kaiserLowpass(TAPS, CUTOFF_AT_48K, BETA);
  const phases: Float64Array[] = [];
  for (let p = 0; p < UP; p++) {
    const taps = new Float64Array(TAPS / UP);
    for (let k = 0; k < taps.length; k++) taps[k] = UP * prototype[p + k * UP]!;
    phases.push(taps);
  }
  return phases;
})();

/** Whole-buffer resampling (a caller turn at a time); the output is `floor(length * 3 / 2)` samples. */
export function resample16kTo24k(input: Int16Array): Int16Array {
  const outputLength = Math.floor((input.length * UP) / DOWN);
  const output = new Int16Array(outputLength);
  // The filter's delay ((TAPS - 1) / 2 samples at 48 kHz) is taken back out so the echo is not late.
  const delay48k = Math.floor((TAPS - 1) / 2);
  for (let m = 0; m < outputLength; m++) {
    const t48k = m * DOWN + delay48k; // position on the 48 kHz grid
    const phase = t48k % UP;
    const newest = Math.floor(t48k / UP); // input sample aligned with tap 0 of this phase
    const taps = PHASES[phase]!;
    let sum = 0;
    for (let k = 0; k < taps.length; k++) {
      const index = newest - k;
      if (index >= 0 && index < input.length) sum += taps[k]! * input[index]!;
    }
    output[m] = Math.max(-32768, Math.min(32767, Math.round(sum)));
  }
  return output;
}
