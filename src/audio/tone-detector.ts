import { FRAME_MS, TWILIO_SAMPLE_RATE_HZ } from './format.js';
import { dbfsToMeanSquare } from './level.js';
import { mulawDecodeSample } from './mulaw.js';

/**
 * Pure tones on the callee's line: a voicemail beep, and a fax machine's answer tone. Pure DSP on 8 kHz mu-law
 * frames, no allocation per frame.
 *
 * How a frame is judged tonal: a sinusoid obeys x[n] + x[n−2] = c·x[n−1] exactly, with c = 2·cos(2πf/fs). The
 * frame's c is fitted by least squares; what the fit leaves unexplained, relative to the frame's energy, is small
 * for one pure tone (only mu-law's quantisation noise, about −38 dB, raised a little by the fit) and large for
 * speech, noise and two-tone signals such as DTMF or ringback (several frequencies cannot share one c). The tone's
 * frequency is acos(c/2)·fs/2π, taken from the frame's autocorrelation at lags 1 and 2 (Pisarenko's estimate for one
 * sinusoid), which white noise does not bias the way it biases the least-squares c. Two tones at once can fit a c between them fairly well (DTMF does), so the frame must
 * also hold nearly all its energy at that frequency: a Goertzel filter at the fitted c (its recurrence takes the
 * same coefficient) measures it. A run of tonal frames at one frequency is a tone.
 *
 * - A **beep** is a tone of BEEP_MIN_MS to BEEP_MAX_MS, reported when it stops: answering machines sound one when
 *   their greeting ends and recording begins ("leave a message after the tone"). No standard fixes its pitch or
 *   length (common ones are 440–2000 Hz, a tenth of a second to a second), so any pitch in the voice band counts.
 * - A **fax** answer tone is 2100 Hz for 2.6–4 s (ITU-T T.30 CED, the V.25 answer tone:
 *   https://www.itu.int/rec/T-REC-T.30 , https://www.itu.int/rec/T-REC-V.25), reported once FAX_TONE_MS of it
 *   has been heard, without waiting for its end.
 */

/** Quieter frames are never tonal: line hiss, or a tone too faint to be the callee's. */
export const TONE_MIN_LEVEL_DBFS = -45;
/**
 * What the single-sinusoid fit may leave unexplained, relative to the frame's energy. Measured on the turn-taking
 * corpus (5 min of speech, echo and noise): frames of speech under −10 dB come at most three in a row; a beep in
 * white noise 20 dB below it leaves about −14 dB.
 */
export const TONAL_RESIDUAL_DB = -10;
/** The share of a tonal frame's energy at its fitted frequency: one for a pure tone, about half for two. */
export const TONE_ENERGY_SHARE = 0.8;
/** Consecutive frames of one tone may differ in pitch by this fraction (the fit's own jitter in noise). */
const PITCH_TOLERANCE = 0.03;
/** The voice band a beep may sit in. */
const MIN_TONE_HZ = 300;
const MAX_TONE_HZ = 3_000;
export const BEEP_MIN_MS = 120;
export const BEEP_MAX_MS = 2_500;
/** A fax's answer tone: 2100 Hz (T.30 CED), with the fit's and the line's tolerance. */
export const FAX_TONE_HZ = 2_100;
const FAX_TONE_TOLERANCE_HZ = 40;
export const FAX_TONE_MS = 800;

const BEEP_MIN_FRAMES = Math.ceil(BEEP_MIN_MS / FRAME_MS);
const BEEP_MAX_FRAMES = Math.floor(BEEP_MAX_MS / FRAME_MS);
const FAX_TONE_FRAMES = Math.ceil(FAX_TONE_MS / FRAME_MS);
const MIN_MEAN_SQUARE = dbfsToMeanSquare(TONE_MIN_LEVEL_DBFS);
const MAX_RESIDUAL_RATIO = 10 ** (TONAL_RESIDUAL_DB / 10);
/** c = 2·cos(2πf/fs) falls as f rises: the voice band's bounds in c. */
const MAX_COEFFICIENT = 2 * Math.cos((2 * Math.PI * MIN_TONE_HZ) / TWILIO_SAMPLE_RATE_HZ);
const MIN_COEFFICIENT = 2 * Math.cos((2 * Math.PI * MAX_TONE_HZ) / TWILIO_SAMPLE_RATE_HZ);

export type ToneEvent = 'beep' | 'fax';

export class ToneDetector {
  /** The tone just reported: its mean pitch and how long it lasted. */
  toneFrequencyHz = 0;
  toneDurationMs = 0;
  /** The last two samples of the previous frame: the fit runs across frame boundaries. */
  private previous = 0;
  private beforePrevious = 0;
  private runFrames = 0;
  private runFrequencySum = 0;
  private runIsFax = false;

  /** One 20 ms frame of mu-law; the tone it completes (or, for a fax, confirms), if any. */
  push(mulaw: Uint8Array, length = mulaw.length): ToneEvent | undefined {
    const frequencyHz = this.tonalFrequency(mulaw, length);
    if (frequencyHz !== undefined && this.continuesRun(frequencyHz)) {
      this.runFrames++;
      this.runFrequencySum += frequencyHz;
      return this.faxToneHeard();
    }
    const ended = this.endRun();
    if (frequencyHz !== undefined) {
      this.runFrames = 1;
      this.runFrequencySum = frequencyHz;
    }
    return ended;
  }

  /** Forget the line so far (a new stream). */
  reset(): void {
    this.previous = 0;
    this.beforePrevious = 0;
    this.runFrames = 0;
    this.runFrequencySum = 0;
    this.runIsFax = false;
  }

  /** The frame's pitch when it is one loud, pure tone in the voice band; otherwise undefined. */
  private tonalFrequency(mulaw: Uint8Array, length: number): number | undefined {
    let x1 = this.previous;
    let x2 = this.beforePrevious;
    let energy = 0;
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    let lag1 = 0;
    let lag2 = 0;
    for (let i = 0; i < length; i++) {
      const x = mulawDecodeSample(mulaw[i] as number);
      const y = x + x2;
      sxx += x1 * x1;
      sxy += x1 * y;
      syy += y * y;
      energy += x * x;
      lag1 += x * x1;
      lag2 += x * x2;
      x2 = x1;
      x1 = x;
    }
    this.previous = x1;
    this.beforePrevious = x2;
    if (length === 0 || energy / length < MIN_MEAN_SQUARE || sxx === 0) return undefined;
    const fitted = sxy / sxx;
    if (syy - fitted * sxy > MAX_RESIDUAL_RATIO * energy) return undefined;
    const coefficient = 2 * pisarenkoCosine(lag1, lag2);
    if (coefficient > MAX_COEFFICIENT || coefficient < MIN_COEFFICIENT) return undefined;
    if (energyShareAt(coefficient, mulaw, length, energy) < TONE_ENERGY_SHARE) return undefined;
    return (Math.acos(coefficient / 2) * TWILIO_SAMPLE_RATE_HZ) / (2 * Math.PI);
  }

  private continuesRun(frequencyHz: number): boolean {
    if (this.runFrames === 0) return false;
    const mean = this.runFrequencySum / this.runFrames;
    return Math.abs(frequencyHz - mean) <= PITCH_TOLERANCE * mean;
  }

  private faxToneHeard(): ToneEvent | undefined {
    if (this.runIsFax || this.runFrames < FAX_TONE_FRAMES) return undefined;
    const mean = this.runFrequencySum / this.runFrames;
    if (Math.abs(mean - FAX_TONE_HZ) > FAX_TONE_TOLERANCE_HZ) return undefined;
    this.runIsFax = true;
    this.report(mean, this.runFrames);
    return 'fax';
  }

  private endRun(): ToneEvent | undefined {
    const frames = this.runFrames;
    const wasFax = this.runIsFax;
    const mean = frames === 0 ? 0 : this.runFrequencySum / frames;
    this.runFrames = 0;
    this.runFrequencySum = 0;
    this.runIsFax = false;
    if (wasFax || frames < BEEP_MIN_FRAMES || frames > BEEP_MAX_FRAMES) return undefined;
    this.report(mean, frames);
    return 'beep';
  }

  private report(frequencyHz: number, frames: number): void {
    this.toneFrequencyHz = Math.round(frequencyHz);
    this.toneDurationMs = frames * FRAME_MS;
  }
}

/**
 * The share of `energy` (the frame's sum of squares) at the frequency whose 2·cos(ω) is `coefficient`: a Goertzel
 * filter's power there, scaled so that a pure tone at that frequency gives 1.
 */
function energyShareAt(coefficient: number, mulaw: Uint8Array, length: number, energy: number): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < length; i++) {
    const s0 = mulawDecodeSample(mulaw[i] as number) + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return (2 * power) / (length * energy);
}

/**
 * cos ω of one sinusoid in white noise from the autocorrelation at lags 1 and 2: with r1 = P·cos ω and
 * r2 = P·cos 2ω, 2·r1·u² − r2·u − r1 = 0 for u = cos ω, whose root in [−1, 1] is 2·r1 / (√(r2² + 8·r1²) − r2)
 * (Pisarenko harmonic decomposition; noise adds to r0 only, which the formula leaves out).
 */
function pisarenkoCosine(lag1: number, lag2: number): number {
  const denominator = Math.sqrt(lag2 * lag2 + 8 * lag1 * lag1) - lag2;
  return denominator === 0 ? 0 : (2 * lag1) / denominator;
}
