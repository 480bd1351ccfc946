/**
 * Twilio's outbound playout buffer for one stream, as documented
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages):
 * - `media` payloads are buffered and played in order, mu-law 8 kHz = 8 bytes per millisecond;
 * - a `mark` is returned when the audio sent before it has finished playing, or at once if nothing is buffered;
 * - `clear` empties the buffer and returns every pending mark.
 *
 * Pure logic: every method takes `nowMs` from the caller's monotonic clock, so the real-time drivers (the replay's
 * twilio-caller.ts and the tests' fake media stream) only have to call `advance()` on a timer. Playback position is derived from when the current
 * run of audio started (`anchorMs`), never accumulated per tick, so timer lateness cannot drift it.
 */
import { MULAW_BYTES_PER_MS } from '../audio/format.js';

/** Twilio discards further media once more than 10 minutes are buffered (warning 31931). */
export const MAX_BUFFERED_BYTES = 10 * 60 * 1000 * MULAW_BYTES_PER_MS;

/** A stretch of agent audio that was actually played to the caller, starting at `atMs`. */
export interface HeardChunk {
  atMs: number;
  bytes: Uint8Array;
}

/** A mark whose echo is due now. `played`: its audio finished; `cleared`: a `clear` discarded it. */
export interface CompletedMark {
  name: string;
  receivedAtMs: number;
  outcome: 'played' | 'cleared';
}

export interface ClearResult {
  discardedBytes: number;
  marks: CompletedMark[];
}

type Item =
  | { kind: 'audio'; bytes: Uint8Array; offset: number }
  | { kind: 'mark'; name: string; receivedAtMs: number };

const TICK_MS = 20;
// Guards against float error making a byte "not yet due" exactly at its due time.
const EPSILON_BYTES = 1e-6;

export class PlayoutBuffer {
  readonly heard: HeardChunk[] = [];
  private queue: Item[] = [];
  /** Clock time at which byte 0 of the current uninterrupted run began playing; undefined when idle. */
  private anchorMs: number | undefined;
  /** Bytes played since `anchorMs`. */
  private playedInRun = 0;
  private buffered = 0;

  /** Bytes received but not yet played. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get isPlaying(): boolean {
    return this.anchorMs !== undefined;
  }

  get pendingMarkNames(): string[] {
    return this.queue.flatMap((item) => (item.kind === 'mark' ? [item.name] : []));
  }

  /** Queue audio. Returns false (audio dropped) when the 10-minute buffer limit would be exceeded. */
  pushAudio(bytes: Uint8Array, nowMs: number): { accepted: boolean; completed: CompletedMark[] } {
    const completed = this.advance(nowMs);
    if (bytes.length === 0) return { accepted: true, completed };
    if (this.buffered + bytes.length > MAX_BUFFERED_BYTES) return { accepted: false, completed };
    this.queue.push({ kind: 'audio', bytes, offset: 0 });
    this.buffered += bytes.length;
    if (this.anchorMs === undefined) {
      this.anchorMs = nowMs;
      this.playedInRun = 0;
    }
    return { accepted: true, completed };
  }

  /** Queue a mark behind the buffered audio; returns it at once if nothing is buffered. */
  pushMark(name: string, nowMs: number): CompletedMark[] {
    const completed = this.advance(nowMs);
    const mark: CompletedMark = { name, receivedAtMs: nowMs, outcome: 'played' };
    if (this.buffered === 0) return [...completed, mark];
    this.queue.push({ kind: 'mark', name, receivedAtMs: nowMs });
    return completed;
  }

  /** Play everything due up to `nowMs`, then discard the rest; pending marks come back as `cleared`. */
  clear(nowMs: number): ClearResult & { completedBeforeClear: CompletedMark[] } {
    const completedBeforeClear = this.advance(nowMs);
    const marks: CompletedMark[] = [];
    for (const item of this.queue) {
      if (item.kind === 'mark') marks.push({ name: item.name, receivedAtMs: item.receivedAtMs, outcome: 'cleared' });
    }
    const discardedBytes = this.buffered;
    this.queue = [];
    this.buffered = 0;
    this.anchorMs = undefined;
    return { discardedBytes, marks, completedBeforeClear };
  }

  /** Move the playhead to `nowMs`; returns marks whose preceding audio has now finished. */
  advance(nowMs: number): CompletedMark[] {
    const completed: CompletedMark[] = [];
    if (this.anchorMs === undefined) return completed;
    let due = Math.floor((nowMs - this.anchorMs) * MULAW_BYTES_PER_MS + EPSILON_BYTES) - this.playedInRun;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'mark') {
        this.queue.shift();
        completed.push({ name: head.name, receivedAtMs: head.receivedAtMs, outcome: 'played' });
        continue;
      }
      if (due <= 0) break;
      const n = Math.min(due, head.bytes.length - head.offset);
      this.heard.push({
        atMs: this.anchorMs + this.playedInRun / MULAW_BYTES_PER_MS,
        bytes: head.bytes.subarray(head.offset, head.offset + n),
      });
      head.offset += n;
      this.playedInRun += n;
      this.buffered -= n;
      due -= n;
      if (head.offset === head.bytes.length) this.queue.shift();
    }
    // Underrun: the run is over; audio arriving later starts a new run at its arrival time.
    if (this.buffered === 0) this.anchorMs = undefined;
    return completed;
  }

  /**
   * When the driver should call `advance` next: the next 20 ms player tick of the current run, or earlier if a
   * mark (or the end of the audio) falls due before it. Undefined when idle.
   */
  nextWakeMs(nowMs: number): number | undefined {
    if (this.anchorMs === undefined) return undefined;
    const elapsed = nowMs - this.anchorMs;
    const nextTick = this.anchorMs + (Math.floor(elapsed / TICK_MS) + 1) * TICK_MS;
    let bytesBefore = 0;
    for (const item of this.queue) {
      if (item.kind === 'mark') break;
      bytesBefore += item.bytes.length - item.offset;
    }
    const boundary = this.anchorMs + (this.playedInRun + bytesBefore) / MULAW_BYTES_PER_MS;
    return Math.min(nextTick, boundary);
  }
}
