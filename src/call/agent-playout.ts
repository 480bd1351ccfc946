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
}

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

  constructor(
    private readonly sink: PlayoutSink,
    /** Called whenever Twilio has confirmed that all agent audio sent so far has played (e.g. a goodbye). */
    private readonly onAllPlayed: () => void = () => {},
  ) {}

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
        this.sink.sendMedia(this.partialFrame);
        this.partialFrameBytes = 0;
        batchBytes += TWILIO_FRAME_BYTES;
      }
    }
    while (mulaw.length - offset >= TWILIO_FRAME_BYTES) {
      const frame = mulaw.subarray(offset, offset + TWILIO_FRAME_BYTES);
      this.sink.sendMedia(frame);
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
      this.sink.sendMedia(this.partialFrame);
      this.partialFrameBytes = 0;
      this.markBatch(TWILIO_FRAME_BYTES);
    }
    this.turnOpen = false;
  }

  /**
   * Barge-in: Twilio drops its buffer and we forget ours. Returns what the caller heard of the
   * interrupted turn, counted from marks echoed before the clear.
   */
  interrupt(): TurnPlayback {
    const playback = this.currentTurn();
    this.sink.sendClear();
    for (const name of this.pendingMarks.keys()) this.clearedMarks.add(name);
    for (const name of this.clearedMarks) {
      if (this.clearedMarks.size <= MAX_CLEARED_MARKS) break;
      this.clearedMarks.delete(name);
    }
    this.pendingMarks.clear();
    this.outstandingBytes = 0;
    this.partialFrameBytes = 0;
    this.turnOpen = false;
    return playback;
  }

  /** Twilio echoed a mark: the audio before it has played, unless a clear sent it back. */
  onMarkEcho(name: string): void {
    if (this.clearedMarks.delete(name)) return;
    const mark = this.pendingMarks.get(name);
    if (mark === undefined) return;
    this.pendingMarks.delete(name);
    this.outstandingBytes -= mark.bytes;
    this.totalHeardBytes += mark.bytes;
    if (mark.turn === this.turn) this.turnHeardBytes += mark.bytes;
    if (this.pendingMarks.size === 0 && this.partialFrameBytes === 0) this.onAllPlayed();
  }

  currentTurn(): TurnPlayback {
    return { turn: this.turn, sentMs: this.turnSentBytes / MULAW_BYTES_PER_MS, heardMs: this.turnHeardBytes / MULAW_BYTES_PER_MS };
  }

  /** Agent audio sent and not yet confirmed played: at most what Twilio still has buffered. */
  get unconfirmedMs(): number {
    return this.outstandingBytes / MULAW_BYTES_PER_MS;
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

  private markBatch(bytes: number): void {
    if (bytes === 0) return;
    const name = `t${this.turn}:m${++this.markSequence}`;
    this.pendingMarks.set(name, { turn: this.turn, bytes });
    this.turnSentBytes += bytes;
    this.totalSentBytes += bytes;
    this.outstandingBytes += bytes;
    this.sink.sendMark(name);
    for (const [oldest, mark] of this.pendingMarks) {
      if (this.outstandingBytes <= MAX_UNCONFIRMED_AGENT_MS * MULAW_BYTES_PER_MS) break;
      this.pendingMarks.delete(oldest);
      this.outstandingBytes -= mark.bytes;
    }
  }
}
