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
 * Silence sent ahead of the stream clock is counted, so the next frame's hole is not filled twice.
 * A stream whose first `media.timestamp` is not 0 (seen on real calls) is not a hole: the clock starts
 * at the first frame.
 */
export const FRAME_MS = 20;
/** No frame for this long: the phone leg has stopped sending; the model gets silence from here on. */
export const INACTIVITY_MS = 750;
/** Longest stretch we fill; beyond it the stream is broken, not quiet. */
export const MAX_FILL_MS = 10_000;
const IDLE_CHECK_MS = 100;

export class CallerTimeline {
  /** Stream-clock time the next frame is due at (after any silence we already sent). */
  private nextTimestampMs: number | undefined;
  private lastFrameAtMs = 0;
  private filledSinceFrameMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  filledMs = 0;

  constructor(
    /** Send this many 20 ms frames of silence to the model. */
    private readonly sendSilence: (frames: number) => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** A caller frame with Twilio's `media.timestamp`; call before forwarding the frame itself. */
  frame(timestampMs: number, durationMs: number): void {
    if (this.nextTimestampMs !== undefined && timestampMs - this.nextTimestampMs >= FRAME_MS) {
      this.fill(Math.min(timestampMs - this.nextTimestampMs, MAX_FILL_MS - this.filledSinceFrameMs));
    }
    this.nextTimestampMs = Math.max(this.nextTimestampMs ?? 0, timestampMs + durationMs);
    this.lastFrameAtMs = this.now();
    this.filledSinceFrameMs = 0;
    if (this.idleTimer === undefined) {
      this.idleTimer = setInterval(() => this.checkIdle(), IDLE_CHECK_MS);
      this.idleTimer.unref();
    }
  }

  dispose(): void {
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
  }

  private checkIdle(): void {
    const quietMs = this.now() - this.lastFrameAtMs;
    if (quietMs < INACTIVITY_MS) return;
    // Silence up to now, less what was already sent since the last frame.
    this.fill(Math.min(quietMs, MAX_FILL_MS) - this.filledSinceFrameMs);
  }

  private fill(ms: number): void {
    const frames = Math.floor(ms / FRAME_MS);
    if (frames <= 0) return;
    this.sendSilence(frames);
    const filled = frames * FRAME_MS;
    this.filledMs += filled;
    this.filledSinceFrameMs += filled;
    if (this.nextTimestampMs !== undefined) this.nextTimestampMs += filled;
  }
}
