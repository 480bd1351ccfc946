import { dbfsToMeanSquare, mulawMeanSquare } from '../audio/level.js';
import { NoiseFloor } from '../audio/noise-floor.js';
import { DEFAULT_SPEECH_THRESHOLD_DBFS } from '../audio/speech-detector.js';
import { ToneDetector } from '../audio/tone-detector.js';
import { CalleeVerdicts, type OpeningAction, type TwilioAnsweredBy } from './callee-verdict.js';

/** Voice is at least as loud as the call's own speech detector's threshold, and this far above the line's noise
 * floor: a callee in a noisy street or a room full of voices still pauses. */
const VOICE_ABOVE_NOISE_DB = 10;
const VOICE_MIN_MEAN_SQUARE = dbfsToMeanSquare(DEFAULT_SPEECH_THRESHOLD_DBFS);
const ABOVE_NOISE = 10 ** (VOICE_ABOVE_NOISE_DB / 10);

/** Voice or not, frame by frame, against a fixed threshold and the line's own noise floor. */
export class LineVoice {
  private readonly noise = new NoiseFloor();

  isVoice(mulaw: Uint8Array): boolean {
    const meanSquare = mulawMeanSquare(mulaw);
    this.noise.push(meanSquare);
    return meanSquare > VOICE_MIN_MEAN_SQUARE && meanSquare > this.noise.meanSquare * ABOVE_NOISE;
  }
}

/**
 * The callee's side of an outbound call as the verdicts see it: each 20 ms frame of their audio goes through the
 * tone detector (beeps, fax tone) and the voice test, and the model's transcript fragments are gathered into what
 * the callee has said so far. Pure: the call, or the benchmark, passes the time.
 */
export class CalleeListener {
  readonly verdicts: CalleeVerdicts;
  private readonly tones = new ToneDetector();
  private readonly voice = new LineVoice();
  private heard = '';

  constructor(onMachine: 'voicemail' | 'hang-up') {
    this.verdicts = new CalleeVerdicts(onMachine);
  }

  /** One frame of the callee's mu-law at `nowMs` (since their audio started). */
  frame(nowMs: number, mulaw: Uint8Array): readonly OpeningAction[] {
    const tone = this.tones.push(mulaw);
    if (tone !== undefined) {
      // The tone ended (or, a fax's, was confirmed) at the end of this frame.
      const toneActions = this.verdicts.tone(nowMs, tone, this.tones.toneFrequencyHz);
      if (toneActions.length > 0) return toneActions;
    }
    return this.verdicts.frame(nowMs, this.voice.isVoice(mulaw));
  }

  /** A fragment of the model's transcript of the callee (fragments concatenate). */
  transcript(nowMs: number, fragment: string): readonly OpeningAction[] {
    this.heard += fragment;
    return this.verdicts.transcript(nowMs, this.heard);
  }

  twilio(nowMs: number, answeredBy: TwilioAnsweredBy): readonly OpeningAction[] {
    return this.verdicts.twilio(nowMs, answeredBy);
  }
}
