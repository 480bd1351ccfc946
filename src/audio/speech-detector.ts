import { FRAME_MS, TWILIO_FRAME_BYTES } from './format.js';
import { dbfsToMeanSquare, mulawMeanSquare } from './level.js';

export type SpeechTransition = 'started' | 'ended';

/** Frames louder than this are voice by default (SpeechDetectorOptions.thresholdDbfs). */
export const DEFAULT_SPEECH_THRESHOLD_DBFS = -40;

export interface SpeechDetectorOptions {
  /** Frames louder than this are voice; phone-line noise sits around -60 dBFS, speech at -30 to -15. */
  thresholdDbfs?: number;
  /** Voice for this long starts speech (shorter clicks and pops do not). */
  startMs?: number;
  /** Quiet for this long ends speech (pauses between words do not). */
  endSilenceMs?: number;
}

/**
 * A small energy voice-activity detector on the caller's mu-law frames. The model does its own
 * turn detection; this one only tells the call when the caller started and stopped talking, so it
 * can notice a model that never answers and a caller who went quiet. The scripted models
 * (src/model/scripted) detect their caller turns with it too.
 */
export class SpeechDetector {
  private readonly thresholdMeanSquare: number;
  private readonly startFrames: number;
  private readonly endFrames: number;
  /** How long after the first voiced frame 'started' is reported: the start of speech is that much earlier. */
  readonly startDelayMs: number;
  /** How long after the caller's last voiced frame 'ended' is reported: the end of speech is that much earlier. */
  readonly endDelayMs: number;
  private readonly scratch = Buffer.alloc(TWILIO_FRAME_BYTES * 4);
  private voicedRun = 0;
  private quietRun = 0;
  private speaking = false;

  constructor({ thresholdDbfs = DEFAULT_SPEECH_THRESHOLD_DBFS, startMs = 100, endSilenceMs = 700 }: SpeechDetectorOptions = {}) {
    this.thresholdMeanSquare = dbfsToMeanSquare(thresholdDbfs);
    this.startFrames = Math.max(1, Math.round(startMs / FRAME_MS));
    this.endFrames = Math.max(1, Math.round(endSilenceMs / FRAME_MS));
    this.startDelayMs = this.startFrames * FRAME_MS;
    this.endDelayMs = this.endFrames * FRAME_MS;
  }

  get isSpeaking(): boolean {
    return this.speaking;
  }

  /** One Twilio `media.payload` (base64 mu-law). */
  pushBase64(payload: string): SpeechTransition | undefined {
    const length = this.scratch.write(payload, 'base64');
    return this.push(this.scratch, length);
  }

  /** Whether one mu-law frame is loud enough to be voice (the decision `push` counts runs of). */
  isVoiced(mulaw: Uint8Array, length = mulaw.length): boolean {
    return mulawMeanSquare(mulaw, 0, length) > this.thresholdMeanSquare;
  }

  push(mulaw: Uint8Array, length = mulaw.length): SpeechTransition | undefined {
    return this.pushMeanSquare(mulawMeanSquare(mulaw, 0, length));
  }

  /** One FRAME_MS frame of any audio, by the mean of its squared samples (full scale 32768): e.g. PCM16. */
  pushMeanSquare(meanSquare: number): SpeechTransition | undefined {
    if (meanSquare > this.thresholdMeanSquare) {
      this.voicedRun++;
      this.quietRun = 0;
      if (!this.speaking && this.voicedRun >= this.startFrames) {
        this.speaking = true;
        return 'started';
      }
    } else {
      this.quietRun++;
      this.voicedRun = 0;
      if (this.speaking && this.quietRun >= this.endFrames) {
        this.speaking = false;
        return 'ended';
      }
    }
    return undefined;
  }
}
