import { FRAME_MS, MULAW_BYTES_PER_MS } from '../audio/format.js';
import { MAX_UNCONFIRMED_AGENT_MS } from '../telephony/media-stream-connection.js';
import type { MulawTimeline } from './mulaw-timeline.js';

/** How late Twilio may plausibly play audio after we send it (network both ways plus its jitter buffer). */
const MAX_PLAYOUT_LAG_MS = 2_000;
/** A queued batch whose echo comes later than this after the audio before it ended had a real gap before it. */
const QUEUED_GAP_TOLERANCE_MS = FRAME_MS;

/** How much of one agent turn was sent to Twilio, and how much of it the caller heard, and when. */
export interface TurnAudio {
  sentMs: number;
  heardMs: number;
  /** Call-timeline ms at which the caller started hearing this turn; undefined if nothing was heard. */
  firstHeardAtMs: number | undefined;
}

interface PendingAudio {
  kind: 'audio';
  bytes: Uint8Array;
  turn: number;
  sentAtMs: number;
  /** Estimated start of playout at Twilio, call-timeline ms. */
  startMs: number;
  /** Twilio's buffer was empty when this frame arrived: it started a run of playout. */
  startsRun: boolean;
}

type PendingItem = PendingAudio | { kind: 'mark'; name: string };

/**
 * Agent audio as the caller heard it, placed on the call's timeline (ms since the stream started).
 *
 * Twilio plays what we send back to back at 8 bytes per ms, echoes a mark when the audio before it
 * has played, and drops its buffer on `clear`. We cannot see Twilio's playhead, so this follows it:
 *
 * - A frame is expected to start at `max(sent time + lag, end of the audio before it)`.
 * - A mark's echo at E means the audio before it ended at E: the frames of that batch are placed to
 *   end at E (never overlapping audio already placed), and are then final. A batch queued behind
 *   audio that was still playing follows it without a gap, unless its echo is more than a frame late.
 *   A batch that started a run tells how late Twilio plays what we send (`lag`: both network legs
 *   plus its buffering).
 * - A `clear` at C stops playout at C + lag: what was due before is heard, the rest never is.
 * - At the end of the call, whatever was not due yet was not heard.
 *
 * The echo itself travels back to us, so placed audio runs late by the return leg; caller audio,
 * stamped by Twilio, arrives with the same delay on our clock, so the two channels stay aligned as
 * long as the network delay is steady. Jitter moves the agent channel by up to that much.
 */
export class HeardAgentAudio {
  private pending: PendingItem[] = [];
  private pendingBytes = 0;
  private lagMs = 0;
  /** End of the last audio placed for good (call-timeline ms and sample position). */
  private placedEndMs = 0;
  private placedEndSample = 0;
  private readonly turns = new Map<number, TurnAudio>();

  constructor(private readonly timeline: MulawTimeline) {}

  /** A media frame (mu-law) of agent turn `turn` went to Twilio at `nowMs`. The bytes are kept, not copied. */
  sent(bytes: Uint8Array, turn: number, nowMs: number): void {
    if (bytes.length === 0) return;
    const previousEnd = this.estimatedEndMs();
    const startsRun = nowMs + this.lagMs > previousEnd;
    const startMs = startsRun ? nowMs + this.lagMs : previousEnd;
    this.pending.push({ kind: 'audio', bytes, turn, sentAtMs: nowMs, startMs, startsRun });
    this.pendingBytes += bytes.length;
    this.turnAudio(turn).sentMs += bytes.length / MULAW_BYTES_PER_MS;
    // Past MAX_UNCONFIRMED_AGENT_MS the oldest is taken as played: marks are not coming back, memory stays bounded.
    while (this.pendingBytes > MAX_UNCONFIRMED_AGENT_MS * MULAW_BYTES_PER_MS) this.placeOldestAsEstimated();
  }

  /** A mark went to Twilio after the audio sent so far. */
  mark(name: string): void {
    this.pending.push({ kind: 'mark', name });
  }

  /** Twilio echoed a mark at `nowMs`: the audio before it has played. Unknown and cleared marks are ignored. */
  markEchoed(name: string, nowMs: number): void {
    const markIndex = this.pending.findIndex((item) => item.kind === 'mark' && item.name === name);
    if (markIndex < 0) return;
    const batch = this.pending.splice(0, markIndex + 1).filter((item): item is PendingAudio => item.kind === 'audio');
    if (batch.length === 0) return;
    const batchBytes = batch.reduce((sum, item) => sum + item.bytes.length, 0);
    const first = batch[0]!;
    const echoedStartMs = Math.max(nowMs - batchBytes / MULAW_BYTES_PER_MS, this.placedEndMs);
    // Queued behind audio that was playing, it followed that audio without a gap, unless the echo says
    // Twilio ran dry first (the batch reached it late); a few ms of echo jitter is not a gap.
    const queuedStartMs = echoedStartMs - this.placedEndMs > QUEUED_GAP_TOLERANCE_MS ? echoedStartMs : this.placedEndMs;
    const startMs = first.startsRun ? echoedStartMs : queuedStartMs;
    if (first.startsRun) this.lagMs = clamp(startMs - first.sentAtMs, 0, MAX_PLAYOUT_LAG_MS);
    let at = startMs;
    for (const item of batch) {
      this.place(item, at, item.bytes.length);
      at += item.bytes.length / MULAW_BYTES_PER_MS;
    }
    this.reestimatePending();
  }

  /**
   * We sent `clear` at `nowMs`: Twilio stops at about now + lag. Returns how much audio was thrown
   * away unheard.
   */
  cleared(nowMs: number): { droppedMs: number } {
    return { droppedMs: this.cutAt(nowMs + this.lagMs) };
  }

  /** The call ended at `nowMs`: what had not played by then never will. */
  finish(nowMs: number): void {
    this.cutAt(nowMs);
  }

  turnAudio(turn: number): TurnAudio {
    let audio = this.turns.get(turn);
    if (audio === undefined) {
      audio = { sentMs: 0, heardMs: 0, firstHeardAtMs: undefined };
      this.turns.set(turn, audio);
    }
    return audio;
  }

  /** Estimated playout lag (ms) learned from mark echoes. */
  get playoutLagMs(): number {
    return this.lagMs;
  }

  private cutAt(cutMs: number): number {
    let droppedBytes = 0;
    for (const item of this.pending) {
      if (item.kind !== 'audio') continue;
      const heardBytes = clamp(Math.floor((cutMs - item.startMs) * MULAW_BYTES_PER_MS), 0, item.bytes.length);
      if (heardBytes > 0) this.place(item, item.startMs, heardBytes);
      droppedBytes += item.bytes.length - heardBytes;
    }
    this.pending = [];
    this.pendingBytes = 0;
    return droppedBytes / MULAW_BYTES_PER_MS;
  }

  private placeOldestAsEstimated(): void {
    const index = this.pending.findIndex((item) => item.kind === 'audio');
    if (index < 0) return;
    // Marks before it stood for audio already placed: their echoes would say nothing new.
    const item = this.pending.splice(0, index + 1).at(-1) as PendingAudio;
    this.place(item, Math.max(item.startMs, this.placedEndMs), item.bytes.length);
  }

  /** Writes `byteCount` bytes of a frame at `startMs` for good; a frame that follows the last one closely is butted against it. */
  private place(item: PendingAudio, startMs: number, byteCount: number): void {
    this.pendingBytes -= item.bytes.length;
    let position = Math.round(startMs * MULAW_BYTES_PER_MS);
    // Rounding must not open one-sample holes or overlaps inside a run of audio.
    if (Math.abs(position - this.placedEndSample) <= 1) position = this.placedEndSample;
    position = Math.max(position, this.placedEndSample);
    this.timeline.write(position, item.bytes.subarray(0, byteCount));
    this.placedEndSample = position + byteCount;
    this.placedEndMs = this.placedEndSample / MULAW_BYTES_PER_MS;
    const turn = this.turnAudio(item.turn);
    turn.heardMs += byteCount / MULAW_BYTES_PER_MS;
    turn.firstHeardAtMs ??= position / MULAW_BYTES_PER_MS;
  }

  private estimatedEndMs(): number {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const item = this.pending[i]!;
      if (item.kind === 'audio') return item.startMs + item.bytes.length / MULAW_BYTES_PER_MS;
    }
    return this.placedEndMs;
  }

  /** After placing a batch (and maybe learning a new lag), the audio still queued starts from there. */
  private reestimatePending(): void {
    let end = this.placedEndMs;
    for (const item of this.pending) {
      if (item.kind !== 'audio') continue;
      item.startsRun = item.sentAtMs + this.lagMs > end;
      item.startMs = item.startsRun ? item.sentAtMs + this.lagMs : end;
      end = item.startMs + item.bytes.length / MULAW_BYTES_PER_MS;
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
