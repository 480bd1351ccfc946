import { FRAME_MS } from '../audio/format.js';

/**
 * How much caller audio the wall clock allows. A phone call produces one second of audio per second: Twilio sends
 * the caller's audio as it happens and, when the connection cannot keep up, discards audio rather than send a
 * backlog (error 31930, "Stream - Media - Buffer Overflow": https://www.twilio.com/docs/api/errors/31930).
 * `media.timestamp` is only the stream's own account of time ("presentation timestamp in milliseconds from the
 * start of the stream": https://www.twilio.com/docs/voice/media-streams/websocket-messages) and may jump where the
 * phone leg left silence out (caller-timeline.ts). A peer is believed only as far as the clock agrees:
 *
 * - Frames: the model's audio (frames and the silence made for holes) may run at most BURST_ALLOWANCE_MS ahead of
 *   the time since the stream started. Frames beyond are dropped. Frames that arrive late, then together (a network
 *   stall), are behind the clock, never ahead of it, so nothing a real stream sends is dropped.
 * - Silence: a hole is filled with at most the wall time since the frame before it, plus GAP_JITTER_MS (frames
 *   are not delivered evenly), and never further than GAP_JITTER_MS ahead of the clock. So a hole's silence is
 *   made as its time passes: never hours at once, never more than the call has lasted.
 * - A frame dropped, or a hole that claims over HOLE_TOLERANCE_MS more than the clock allows, is a violation; a
 *   stream with MAX_VIOLATIONS of them is not a phone line and is hung up.
 *
 * Pure: the clock is injected (monotonic milliseconds).
 */
export const BURST_ALLOWANCE_MS = 3_000;
/** How unevenly frames may arrive around a hole before the silence made for it is cut short. */
export const GAP_JITTER_MS = 1_000;
/** A hole claiming this much more than the clock allows is no jitter: it counts as a violation. */
export const HOLE_TOLERANCE_MS = 1_000;
/** Violations (dropped frames, impossible holes) after which the stream is hung up: a second of 20 ms frames. */
export const MAX_VIOLATIONS = 50;

export class CallerAudioPolicer {
  private readonly startedAtMs: number;
  /** Audio the model has been given: frames forwarded and silence made. */
  private deliveredMs = 0;
  private lastFrameAtMs: number;
  private silenceSinceFrameMs = 0;
  /** Frames dropped for arriving faster than real time. */
  droppedMs = 0;
  /** Silence holes claimed that the clock did not allow (not made). */
  refusedSilenceMs = 0;
  violations = 0;

  /** `startedAtMs`: when the stream started, on the `now` clock (monotonic ms). */
  constructor(
    private readonly now: () => number,
    startedAtMs: number = now(),
  ) {
    this.startedAtMs = startedAtMs;
    this.lastFrameAtMs = startedAtMs;
  }

  /** The stream keeps sending what no phone line can: time to hang up. */
  get exhausted(): boolean {
    return this.violations >= MAX_VIOLATIONS;
  }

  /** A frame of `durationMs` arrived: true to forward it; false when it is dropped (counted). */
  admitFrame(durationMs: number): boolean {
    const now = this.now();
    this.lastFrameAtMs = now;
    this.silenceSinceFrameMs = 0;
    if (this.leadMs(now) + durationMs > BURST_ALLOWANCE_MS) {
      this.droppedMs += durationMs;
      this.violations++;
      return false;
    }
    this.deliveredMs += durationMs;
    return true;
  }

  /**
   * Silence wanted for a stretch the stream left out: a `hole` its timestamps claim (before the frame after it is
   * admitted), or `idle` time with no frame at all. Returns the whole frames' worth (ms) that may be made now,
   * taken as made.
   */
  silence(wantedMs: number, source: 'hole' | 'idle'): number {
    const now = this.now();
    const sinceFrameMs = now - this.lastFrameAtMs + GAP_JITTER_MS - this.silenceSinceFrameMs;
    const allowedMs = Math.max(0, Math.min(wantedMs, GAP_JITTER_MS - this.leadMs(now), sinceFrameMs));
    const madeMs = Math.floor(allowedMs / FRAME_MS) * FRAME_MS;
    if (source === 'hole') {
      this.refusedSilenceMs += Math.max(0, wantedMs - allowedMs);
      if (wantedMs - allowedMs > HOLE_TOLERANCE_MS) this.violations++;
    }
    this.deliveredMs += madeMs;
    this.silenceSinceFrameMs += madeMs;
    return madeMs;
  }

  /** How far the model's audio runs ahead of the time since the stream started (negative: behind). */
  private leadMs(now: number): number {
    return this.deliveredMs - (now - this.startedAtMs);
  }
}
