import { performance } from 'node:perf_hooks';
import { FRAME_MS, MULAW_BYTES_PER_MS, TWILIO_FRAME_BYTES } from '../audio/format.js';
import { MULAW_SILENCE_BYTE } from '../audio/mulaw.js';
import { MAX_UNCONFIRMED_AGENT_MS, type PlayoutSink } from '../telephony/media-stream-connection.js';

export type { PlayoutSink } from '../telephony/media-stream-connection.js';

/** Marks remembered at a clear until Twilio echoes them: as many as MAX_UNCONFIRMED_AGENT_MS of single frames. */
const MAX_CLEARED_MARKS = MAX_UNCONFIRMED_AGENT_MS / FRAME_MS;

/** How much of one agent turn was sent to Twilio, and how much Twilio confirmed it played. */
export interface TurnPlayback {
  turn: number;
  sentMs: number;
  heardMs: number;
}

interface PendingMark {
  turn: number;
  bytes: number;
  sentAtMs: number;
  /** Twilio had nothing left to play when this batch went out: its echo times the playout (`lagMs`). */
  startsRun: boolean;
}

export interface AgentPlayoutOptions {
  /** Keep the audio Twilio has not confirmed, so `pause` can resume it (local turn detection). */
  resumable?: boolean;
  now?: () => number;
}

/** A lag beyond this is a stalled echo, not the network: it is not learnt. */
const MAX_LAG_MS = 1_000;

/**
 * Agent audio on its way to the caller. Sends whole 20 ms mu-law frames as soon as they exist, a mark
 * after each batch, and counts what the caller heard from the marks Twilio echoes.
 *
 * Mark names carry the turn (`t3:m17`): after a `clear`, Twilio echoes every pending mark at once,
 * which would otherwise count discarded audio as heard. Those names are remembered at the clear and
 * their echoes ignored, so a new turn's accounting never picks up the old turn's returns.
 *
 * A peer that never echoes marks costs bounded memory: past MAX_UNCONFIRMED_AGENT_MS of unconfirmed audio the
 * oldest mark is given up (its audio taken as played, never as heard), and so are the oldest cleared names.
 *
 * A resumable playout can also pause: Twilio drops what it has not played (`clear`), and the audio the caller has
 * not heard waits here, with whatever the model sends meanwhile, until `resume` sends it again or `interrupt` drops
 * it. What the caller heard of the batch playing at the pause is estimated from the time it has played since the
 * previous echo; the echo comes back late by the return leg, so the estimate errs towards repeating a little.
 */
export class AgentPlayout {
  private turn = 0;
  private turnOpen = false;
  private markSequence = 0;
  private readonly partialFrame = new Uint8Array(TWILIO_FRAME_BYTES);
  private partialFrameBytes = 0;
  private readonly pendingMarks = new Map<string, PendingMark>();
  private readonly clearedMarks = new Set<string>();
  private turnSentBytes = 0;
  private turnHeardBytes = 0;
  private totalSentBytes = 0;
  private totalHeardBytes = 0;
  private outstandingBytes = 0;
  private readonly resumable: boolean;
  private readonly now: () => number;
  /** Resumable: the frames sent that Twilio has not confirmed, oldest first. */
  private readonly unheard = new ByteQueue();
  /** Paused: the frames waiting to be sent on resume; the first `heldResentBytes` of them had been sent before. */
  private paused = false;
  private readonly held = new ByteQueue();
  private heldResentBytes = 0;
  private lastPlayedEchoAtMs = 0;
  private lag = 0;

  constructor(
    private readonly sink: PlayoutSink,
    /** Called whenever Twilio has confirmed that all agent audio sent so far has played (e.g. a goodbye). */
    private readonly onAllPlayed: () => void = () => {},
    options: AgentPlayoutOptions = {},
  ) {
    this.resumable = options.resumable ?? false;
    this.now = options.now ?? (() => performance.now());
  }

  /** Queues agent audio (8 kHz mu-law) for the current turn; a new turn starts with the first audio after one ended. */
  push(mulaw: Uint8Array): void {
    if (!this.turnOpen) this.beginTurn();
    let offset = 0;
    let batchBytes = 0;
    if (this.partialFrameBytes > 0) {
      const take = Math.min(TWILIO_FRAME_BYTES - this.partialFrameBytes, mulaw.length);
      this.partialFrame.set(mulaw.subarray(0, take), this.partialFrameBytes);
      this.partialFrameBytes += take;
      offset = take;
      if (this.partialFrameBytes === TWILIO_FRAME_BYTES) {
        this.emit(this.partialFrame);
        this.partialFrameBytes = 0;
        batchBytes += TWILIO_FRAME_BYTES;
      }
    }
    while (mulaw.length - offset >= TWILIO_FRAME_BYTES) {
      this.emit(mulaw.subarray(offset, offset + TWILIO_FRAME_BYTES));
      offset += TWILIO_FRAME_BYTES;
      batchBytes += TWILIO_FRAME_BYTES;
    }
    if (offset < mulaw.length) {
      this.partialFrame.set(mulaw.subarray(offset), this.partialFrameBytes);
      this.partialFrameBytes += mulaw.length - offset;
    }
    this.markBatch(batchBytes);
  }

  /** The model finished generating: pad the last partial frame with silence so only whole frames go out. */
  finishTurn(): void {
    if (this.partialFrameBytes > 0) {
      this.partialFrame.fill(MULAW_SILENCE_BYTE, this.partialFrameBytes);
      this.emit(this.partialFrame);
      this.partialFrameBytes = 0;
      this.markBatch(TWILIO_FRAME_BYTES);
    }
    this.turnOpen = false;
  }

  /**
   * Barge-in: Twilio drops its buffer and we forget ours (a pause had already cleared it). Returns what the
   * caller heard of the interrupted turn, counted from marks echoed before the clear.
   */
  interrupt(): TurnPlayback {
    const playback = this.currentTurn();
    if (!this.paused) this.clearTwilio();
    this.paused = false;
    this.held.clear();
    this.unheard.clear();
    this.partialFrameBytes = 0;
    this.turnOpen = false;
    return playback;
  }

  /**
   * The caller may be cutting in: Twilio stops playing (`clear`) and the audio the caller has not heard waits here,
   * with whatever arrives meanwhile. Only a resumable playout pauses.
   */
  pause(): void {
    if (!this.resumable || this.paused) return;
    const heard = Math.min(this.unheard.length, this.heardOfFirstBatch());
    this.clearTwilio();
    this.unheard.dropFront(heard);
    this.held.moveFrom(this.unheard);
    this.heldResentBytes = this.held.length;
    this.paused = true;
  }

  /** It was a backchannel: what the caller has not heard plays from where it stopped, and the rest follows. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const bytes = this.held.view();
    for (let offset = 0; offset < bytes.length; offset += TWILIO_FRAME_BYTES) this.emit(bytes.subarray(offset, offset + TWILIO_FRAME_BYTES));
    this.markBatch(bytes.length, bytes.length - this.heldResentBytes);
    this.held.clear();
    this.heldResentBytes = 0;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * How much later than sent Twilio's playout runs on our clock: both network legs, learnt from the echo of a batch
   * sent to an idle Twilio (its audio played from arrival). The caller's echo of the agent comes back that late too.
   */
  get lagMs(): number {
    return this.lag;
  }

  /** Twilio echoed a mark: the audio before it has played, unless a clear sent it back. */
  onMarkEcho(name: string): void {
    if (this.clearedMarks.delete(name)) return;
    const mark = this.pendingMarks.get(name);
    if (mark === undefined) return;
    const nowMs = this.now();
    this.pendingMarks.delete(name);
    this.outstandingBytes -= mark.bytes;
    this.totalHeardBytes += mark.bytes;
    if (mark.turn === this.turn) this.turnHeardBytes += mark.bytes;
    this.lastPlayedEchoAtMs = nowMs;
    if (this.resumable) this.unheard.dropFront(mark.bytes);
    const lag = nowMs - mark.sentAtMs - mark.bytes / MULAW_BYTES_PER_MS;
    if (mark.startsRun && lag >= 0 && lag <= MAX_LAG_MS) this.lag = lag;
    if (this.pendingMarks.size === 0 && this.partialFrameBytes === 0 && this.held.length === 0) this.onAllPlayed();
  }

  currentTurn(): TurnPlayback {
    return { turn: this.turn, sentMs: this.turnSentBytes / MULAW_BYTES_PER_MS, heardMs: this.turnHeardBytes / MULAW_BYTES_PER_MS };
  }

  /** Agent audio sent and not yet confirmed played (at most what Twilio still has buffered), and any held by a pause. */
  get unconfirmedMs(): number {
    return (this.outstandingBytes + this.held.length) / MULAW_BYTES_PER_MS;
  }

  get totals(): { sentMs: number; heardMs: number } {
    return { sentMs: this.totalSentBytes / MULAW_BYTES_PER_MS, heardMs: this.totalHeardBytes / MULAW_BYTES_PER_MS };
  }

  private beginTurn(): void {
    this.turn++;
    this.turnOpen = true;
    this.turnSentBytes = 0;
    this.turnHeardBytes = 0;
  }

  /** One frame on its way: to Twilio, or held by a pause. */
  private emit(frame: Uint8Array): void {
    if (this.paused) return this.held.append(frame);
    this.sink.sendMedia(frame);
    if (this.resumable) this.unheard.append(frame);
  }

  /** A mark after `bytes` of frames, of which `newBytes` count as sent (the rest is resent after a pause). */
  private markBatch(bytes: number, newBytes = bytes): void {
    if (bytes === 0 || this.paused) return;
    const name = `t${this.turn}:m${++this.markSequence}`;
    this.pendingMarks.set(name, { turn: this.turn, bytes, sentAtMs: this.now(), startsRun: this.outstandingBytes === 0 });
    this.turnSentBytes += newBytes;
    this.totalSentBytes += newBytes;
    this.outstandingBytes += bytes;
    this.sink.sendMark(name);
    for (const [oldest, mark] of this.pendingMarks) {
      if (this.outstandingBytes <= MAX_UNCONFIRMED_AGENT_MS * MULAW_BYTES_PER_MS) break;
      this.pendingMarks.delete(oldest);
      this.outstandingBytes -= mark.bytes;
      if (this.resumable) this.unheard.dropFront(mark.bytes);
    }
  }

  /** Twilio drops what it has not played; the marks it returns for it are ignored. */
  private clearTwilio(): void {
    this.sink.sendClear();
    for (const name of this.pendingMarks.keys()) this.clearedMarks.add(name);
    for (const name of this.clearedMarks) {
      if (this.clearedMarks.size <= MAX_CLEARED_MARKS) break;
      this.clearedMarks.delete(name);
    }
    this.pendingMarks.clear();
    this.outstandingBytes = 0;
  }

  /**
   * Frame-aligned bytes the caller has heard of the first unconfirmed batch: Twilio started it when it arrived, or
   * when the batch before it ended (its echo).
   */
  private heardOfFirstBatch(): number {
    const first = this.pendingMarks.values().next().value;
    if (first === undefined) return 0;
    const playedMs = Math.max(0, this.now() - Math.max(first.sentAtMs, this.lastPlayedEchoAtMs));
    return Math.floor((playedMs * MULAW_BYTES_PER_MS) / TWILIO_FRAME_BYTES) * TWILIO_FRAME_BYTES;
  }
}

/** Bytes appended at the back and taken from the front, in one buffer that grows by doubling. */
class ByteQueue {
  private buffer = new Uint8Array(0);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(bytes: Uint8Array): void {
    if (this.end + bytes.length > this.buffer.length) this.makeRoom(bytes.length);
    this.buffer.set(bytes, this.end);
    this.end += bytes.length;
  }

  dropFront(count: number): void {
    this.start = Math.min(this.end, this.start + count);
    if (this.start === this.end) this.clear();
  }

  /** Everything queued, as a view valid until the next change. */
  view(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }

  /** Takes `other`'s bytes, leaving it empty (no copy when this one is empty: they swap buffers). */
  moveFrom(other: ByteQueue): void {
    if (this.length > 0) this.append(other.view());
    else [this.buffer, this.start, this.end, other.buffer] = [other.buffer, other.start, other.end, this.buffer];
    other.clear();
  }

  clear(): void {
    this.start = 0;
    this.end = 0;
  }

  private makeRoom(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) {
      this.buffer.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2, 4 * TWILIO_FRAME_BYTES));
      grown.set(this.buffer.subarray(this.start, this.end));
      this.buffer = grown;
    }
    this.end = this.length;
    this.start = 0;
  }
}
