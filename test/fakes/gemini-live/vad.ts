/**
 * Energy VAD for the fake server.
 *
 * Works on the AUDIO timeline (samples received), not the wall clock: a test that pushes audio faster
 * than real time still gets the same turn boundaries, so results are deterministic for given audio.
 */
import { dbfs } from './pcm.js';

export interface VadConfig {
  /** A 20 ms window at or above this RMS level counts as speech. */
  thresholdDbfs: number;
  /** Consecutive speech needed before start-of-speech is committed (cf. `prefixPaddingMs`). */
  startMs: number;
  /** Consecutive non-speech needed before end-of-speech is committed (cf. `silenceDurationMs`). */
  endSilenceMs: number;
  /** `START_SENSITIVITY_LOW`: speech must be this much louder than the threshold to start. */
  startOffsetDb?: number;
  /** `END_SENSITIVITY_LOW`: during speech, a window counts as silence only this much under the threshold. */
  endOffsetDb?: number;
}

/**
 * The service's detector is not public, so a sensitivity is the fake's own model: LOW shifts the threshold by this
 * much (starts need louder speech; ends need quieter silence). HIGH, the Gemini API's default, is the plain threshold.
 */
export const LOW_SENSITIVITY_OFFSET_DB = 6;

export const DEFAULT_VAD: VadConfig = { thresholdDbfs: -35, startMs: 60, endSilenceMs: 500 };

export type VadEvent =
  /** Speech committed; `startMs` is where the voiced run began, `atMs` when it was committed. */
  | { type: 'speechStart'; startMs: number; atMs: number }
  /** Speech ended; `endMs` is the end of the last voiced window, `atMs` when it was committed. */
  | { type: 'speechEnd'; startMs: number; endMs: number; atMs: number };

const SAMPLE_RATE = 16000;
const WINDOW_MS = 20;
const WINDOW_SAMPLES = (SAMPLE_RATE * WINDOW_MS) / 1000;

export class EnergyVad {
  private readonly startWindows: number;
  private readonly endWindows: number;
  private pending = new Int16Array(0); // partial window carried to the next push
  private windowsDone = 0;
  private voicedRun = 0;
  private voicedRunStart = 0;
  private silentRun = 0;
  private silentRunStart = 0;
  private speaking = false;
  private speechStartMs = 0;

  constructor(readonly config: VadConfig) {
    this.startWindows = Math.max(1, Math.ceil(config.startMs / WINDOW_MS));
    this.endWindows = Math.max(1, Math.ceil(config.endSilenceMs / WINDOW_MS));
  }

  get isSpeaking(): boolean {
    return this.speaking;
  }

  /** Feed the next samples (16 kHz); returns the boundaries they completed. */
  push(samples: Int16Array): VadEvent[] {
    const data = this.pending.length === 0 ? samples : concat(this.pending, samples);
    const events: VadEvent[] = [];
    let offset = 0;
    for (; offset + WINDOW_SAMPLES <= data.length; offset += WINDOW_SAMPLES) {
      const event = this.window(data.subarray(offset, offset + WINDOW_SAMPLES));
      if (event) events.push(event);
    }
    this.pending = data.slice(offset);
    return events;
  }

  /**
   * End any speech in progress now (e.g. `audioStreamEnd`): the client said no more audio is coming,
   * so waiting for trailing silence would stall the turn forever.
   */
  flush(): VadEvent[] {
    const events: VadEvent[] = [];
    const nowMs = this.timelineMs();
    if (this.speaking) {
      const endMs = this.silentRun > 0 ? this.silentRunStart : nowMs;
      events.push({ type: 'speechEnd', startMs: this.speechStartMs, endMs, atMs: nowMs });
    }
    // The partial window still advances the timeline so later boundaries stay aligned.
    this.windowsDone += this.pending.length / WINDOW_SAMPLES;
    this.pending = new Int16Array(0);
    this.speaking = false;
    this.voicedRun = 0;
    this.silentRun = 0;
    return events;
  }

  private timelineMs(): number {
    return this.windowsDone * WINDOW_MS + (this.pending.length * 1000) / SAMPLE_RATE;
  }

  private window(samples: Int16Array): VadEvent | undefined {
    const startMs = this.windowsDone * WINDOW_MS;
    this.windowsDone++;
    const endMs = this.windowsDone * WINDOW_MS;
    const level = dbfs(samples);

    if (!this.speaking) {
      if (level < this.config.thresholdDbfs + (this.config.startOffsetDb ?? 0)) {
        this.voicedRun = 0;
        return undefined;
      }
      if (this.voicedRun === 0) this.voicedRunStart = startMs;
      this.voicedRun++;
      if (this.voicedRun < this.startWindows) return undefined;
      this.speaking = true;
      this.speechStartMs = this.voicedRunStart;
      this.silentRun = 0;
      return { type: 'speechStart', startMs: this.speechStartMs, atMs: endMs };
    }

    if (level >= this.config.thresholdDbfs - (this.config.endOffsetDb ?? 0)) {
      this.silentRun = 0;
      return undefined;
    }
    if (this.silentRun === 0) this.silentRunStart = startMs;
    this.silentRun++;
    if (this.silentRun < this.endWindows) return undefined;
    this.speaking = false;
    this.voicedRun = 0;
    this.silentRun = 0;
    return { type: 'speechEnd', startMs: this.speechStartMs, endMs: this.silentRunStart, atMs: endMs };
  }
}

function concat(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
