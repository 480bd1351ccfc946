import { FRAME_MS } from '../audio/format.js';
import { CallerAudioPolicer } from './caller-audio-policer.js';

/**
 * Keeps the caller's audio timeline continuous for the model's voice detection, which needs to hear the
 * silence after speech to end the caller's turn.
 *
 * The phone leg may omit silent audio (openai/openai-agents-js `examples/realtime-twilio` README: Twilio
 * "can omit silent audio", and its transport fills missing intervals). Two shapes of it:
 * - a hole between two frames: `media.timestamp` jumps; the hole is filled when the next frame arrives;
 * - no frame at all after the caller's last words: nothing would ever tell the model that the caller
 *   stopped, so after INACTIVITY_MS without a frame silence is sent as time passes, as openai-agents-js
 *   does (750 ms, then silence), until frames come back or MAX_FILL_MS has been filled.
 * Silence sent ahead of the stream clock is counted, so the next hole is not filled twice: a frame that comes late
 * after silence was sent for its time leaves the model ahead of the stream, and the next hole makes up for it.
 * A stream whose first `media.timestamp` is not 0 (seen on real calls) is not a hole: the clock starts
 * at the first frame.
 *
 * What a stream claims is believed only as far as the wall clock agrees (caller-audio-policer.ts): frames faster
 * than real time are dropped, and a hole gets no more silence than the time that passed.
 */
/** No frame for this long: the phone leg has stopped sending; the model gets silence from here on. */
export const INACTIVITY_MS = 750;
/** Longest stretch we fill; beyond it the stream is broken, not quiet. */
export const MAX_FILL_MS = 10_000;
const IDLE_CHECK_MS = 100;

export class CallerTimeline {
  /**
   * Where the model's audio has reached, on the stream's clock: the next frame is due here. Frames and silence
   * both move it, so silence sent ahead of a late frame is not sent again for the next hole.
   */
  private nextTimestampMs: number | undefined;
  /** The stream's clock at the end of its last frame. */
  private lastFrameEndMs = 0;
  private lastFrameAtMs = 0;
  private filledSinceFrameMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly policer: CallerAudioPolicer;
  filledMs = 0;

  constructor(
    /** Send this many 20 ms frames of silence to the model. */
    private readonly sendSilence: (frames: number) => void,
    /** Monotonic milliseconds. */
    private readonly now: () => number = () => performance.now(),
    /** When the stream started, on that clock (default: now): the wall clock the stream's audio is held to. */
    startedAtMs: number = now(),
  ) {
    this.policer = new CallerAudioPolicer(now, startedAtMs);
  }

  /**
   * A caller frame with Twilio's `media.timestamp`; call before forwarding the frame itself. Returns whether to
   * forward it: false for a frame that arrived faster than real time allows (dropped).
   */
  frame(timestampMs: number, durationMs: number): boolean {
    let next = this.nextTimestampMs ?? timestampMs;
    if (timestampMs - next >= FRAME_MS) {
      this.fill(Math.min(timestampMs - next, MAX_FILL_MS - this.filledSinceFrameMs), 'hole');
      next = timestampMs; // back on the stream's clock: what was not filled is left out
    }
    const admitted = this.policer.admitFrame(durationMs);
    this.nextTimestampMs = next + durationMs;
    this.lastFrameEndMs = timestampMs + durationMs;
    this.lastFrameAtMs = this.now();
    this.filledSinceFrameMs = 0;
    if (this.idleTimer === undefined) {
      this.idleTimer = setInterval(() => this.checkIdle(), IDLE_CHECK_MS);
      this.idleTimer.unref();
    }
    return admitted;
  }

  /** What the wall clock refused: frames dropped and silence not made, in ms. */
  get policed(): { droppedMs: number; refusedSilenceMs: number; violations: number } {
    const { droppedMs, refusedSilenceMs, violations } = this.policer;
    return { droppedMs, refusedSilenceMs, violations };
  }

  /** The stream keeps claiming more audio than the wall clock allows (caller-audio-policer.ts): hang it up. */
  get violating(): boolean {
    return this.policer.exhausted;
  }

  dispose(): void {
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
  }

  private checkIdle(): void {
    const quietMs = this.now() - this.lastFrameAtMs;
    if (quietMs < INACTIVITY_MS || this.nextTimestampMs === undefined) return;
    // Silence up to now on the stream's clock, less what the model already has past the last frame.
    this.fill(this.lastFrameEndMs + Math.min(quietMs, MAX_FILL_MS) - this.nextTimestampMs, 'idle');
  }

  private fill(ms: number, source: 'hole' | 'idle'): void {
    if (ms < FRAME_MS) return;
    const filled = this.policer.silence(ms, source);
    if (filled === 0) return;
    this.sendSilence(filled / FRAME_MS);
    this.filledMs += filled;
    this.filledSinceFrameMs += filled;
    if (this.nextTimestampMs !== undefined) this.nextTimestampMs += filled;
  }
}
