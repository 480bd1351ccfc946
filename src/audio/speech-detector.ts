import { mulawDecodeSample } from './mulaw.js';
import { FRAME_MS, TWILIO_FRAME_BYTES } from './format.js';

export type SpeechTransition = 'started' | 'ended';

export interface SpeechDetectorOptions {
  /** Frames louder than this are voice; phone-line noise sits around -60 dBFS, speech at -30 to -15. */
  thresholdDbfs?: number;
  /** Voice for this long starts speech (shorter clicks and pops do not). */
  startMs?: number;
  /** Quiet for this long ends speech (pauses between words do not). */
  endSilenceMs?: number;
}

/** Squared sample value of each mu-law code, so a frame's energy is 160 table lookups. */
const SQUARED_SAMPLE = Float64Array.from({ length: 256 }, (_, code) => mulawDecodeSample(code) ** 2);
const FULL_SCALE_SQUARED = 32768 ** 2;

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

  constructor({ thresholdDbfs = -40, startMs = 100, endSilenceMs = 700 }: SpeechDetectorOptions = {}) {
    this.thresholdMeanSquare = FULL_SCALE_SQUARED * 10 ** (thresholdDbfs / 10);
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

  push(mulaw: Uint8Array, length = mulaw.length): SpeechTransition | undefined {
    let sum = 0;
    for (let i = 0; i < length; i++) sum += SQUARED_SAMPLE[mulaw[i] as number] as number;
    return this.pushMeanSquare(length > 0 ? sum / length : 0);
  }

  /** One FRAME_MS frame of any audio, by the mean of its squared samples (full scale 32768): e.g. PCM16. */
  pushMeanSquare(meanSquare: number): SpeechTransition | undefined {
    const voiced = meanSquare > this.thresholdMeanSquare;
    if (voiced) {
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
