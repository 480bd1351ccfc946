import { MODEL_INPUT_SAMPLE_RATE_HZ, PCM16_BYTES_PER_SAMPLE } from './format.js';

/** Caller audio for the model, 16 kHz PCM16: bytes per millisecond. */
const MODEL_INPUT_BYTES_PER_MS = (MODEL_INPUT_SAMPLE_RATE_HZ / 1000) * PCM16_BYTES_PER_SAMPLE;
/** Held caller audio is capped at this much; the oldest goes first. */
export const MAX_HELD_AUDIO_MS = 30_000;
/** The cap in memory: MAX_HELD_AUDIO_MS of 16 kHz PCM16. */
export const MAX_HELD_AUDIO_BYTES = MAX_HELD_AUDIO_MS * MODEL_INPUT_BYTES_PER_MS;
/** The ring starts this large and doubles as needed, up to the cap: most calls never hold more than a turn's audio. */
const INITIAL_CAPACITY_BYTES = 64 * 1024;
/** Held audio goes to a session in pieces of at most this much (a replay after a switch may be seconds long). */
export const MAX_SEND_CHUNK_BYTES = 100 * MODEL_INPUT_BYTES_PER_MS;

/** Where the call says the caller started or stopped talking (local turn detection): kept in order with the audio. */
export type Activity = 'start' | 'end';

/** Where held input goes: a model session, which may refuse (it is closing). */
export interface HeldInputSink {
  sendAudio(audio: Uint8Array): boolean;
  sendActivity(activity: Activity): boolean;
}

interface ActivityMark {
  /** Stream position (bytes of audio before it). */
  readonly at: number;
  readonly activity: Activity;
}

/**
 * The caller input a model session may still need, oldest first: what was sent since the latest resumption handle
 * (a session resumed from that handle has not heard it), then what was not sent at all (no session yet, or
 * sessions switching). The audio is one ring of bytes per call, outside the JavaScript heap, so holding seconds of
 * it costs the garbage collector nothing and a frame costs one copy in; activity marks keep their place in it.
 * Whatever a stream sends, at most MAX_HELD_AUDIO_MS is held, the oldest dropped first (sent before unsent).
 * Positions count bytes of audio since the call started; lengths are whole samples.
 */
export class HeldAudio {
  private ring: Buffer;
  /** Where the oldest held byte is in the ring. */
  private head = 0;
  /** Stream positions: the oldest held byte, the end of what a session has had, the end of what is held. */
  private start = 0;
  private sentTo = 0;
  private end = 0;
  /** Marks held, in order; those before `marksSent` a session has had. */
  private marks: ActivityMark[] = [];
  private marksSent = 0;

  constructor(private readonly maxBytes = MAX_HELD_AUDIO_BYTES) {
    this.ring = Buffer.allocUnsafeSlow(Math.min(INITIAL_CAPACITY_BYTES, maxBytes));
  }

  /** New caller audio, after everything held; not sent yet. */
  append(audio: Uint8Array): void {
    const kept = audio.length > this.maxBytes ? audio.subarray(audio.length - this.maxBytes) : audio;
    this.makeRoom(kept.length);
    const at = this.ringIndex(this.end);
    const first = Math.min(kept.length, this.ring.length - at);
    this.ring.set(kept.subarray(0, first), at);
    if (first < kept.length) this.ring.set(kept.subarray(first), 0);
    this.end += kept.length;
  }

  /** The caller started or stopped talking, after the audio held so far; not sent yet. */
  appendActivity(activity: Activity): void {
    this.marks.push({ at: this.end, activity });
  }

  /**
   * Offers what has not been sent to `sink`, in order: audio in pieces of at most MAX_SEND_CHUNK_BYTES (views into
   * the ring, valid during the call), marks in their places. Stops at the first refusal; returns whether all went.
   */
  sendUnsent(sink: HeldInputSink): boolean {
    for (;;) {
      const mark = this.marks[this.marksSent];
      if (mark !== undefined && mark.at <= this.sentTo) {
        if (!sink.sendActivity(mark.activity)) return false;
        this.marksSent++;
        continue;
      }
      if (this.sentTo === this.end) return true;
      const at = this.ringIndex(this.sentTo);
      const size = Math.min((mark?.at ?? this.end) - this.sentTo, MAX_SEND_CHUNK_BYTES, this.ring.length - at);
      if (!sink.sendAudio(this.ring.subarray(at, at + size))) return false;
      this.sentTo += size;
    }
  }

  /** A resumption handle covers everything sent so far: it is no longer needed. */
  forgetSent(): void {
    this.dropBefore(this.sentTo);
    this.marks.splice(0, this.marksSent);
    this.marksSent = 0;
  }

  /** A session resumed from the latest handle has heard nothing since it: everything held is to be sent again. */
  markAllUnsent(): void {
    this.sentTo = this.start;
    this.marksSent = 0;
  }

  /** Audio sent since the latest handle, ms. */
  get sentMs(): number {
    return (this.sentTo - this.start) / MODEL_INPUT_BYTES_PER_MS;
  }

  /** Audio not sent to any session yet, ms. */
  get unsentMs(): number {
    return (this.end - this.sentTo) / MODEL_INPUT_BYTES_PER_MS;
  }

  /** Audio held, bytes. */
  get byteLength(): number {
    return this.end - this.start;
  }

  private ringIndex(position: number): number {
    return (this.head + position - this.start) % this.ring.length;
  }

  private makeRoom(bytes: number): void {
    const needed = this.byteLength + bytes;
    if (needed <= this.ring.length) return;
    if (this.ring.length < this.maxBytes) this.grow(needed);
    if (needed > this.ring.length) this.dropBefore(this.start + needed - this.ring.length);
  }

  /** A larger ring (doubling, up to the cap), the held bytes moved to its start. */
  private grow(needed: number): void {
    let capacity = this.ring.length;
    while (capacity < needed && capacity < this.maxBytes) capacity = Math.min(2 * capacity, this.maxBytes);
    const grown = Buffer.allocUnsafeSlow(capacity);
    const first = Math.min(this.byteLength, this.ring.length - this.head);
    grown.set(this.ring.subarray(this.head, this.head + first), 0);
    grown.set(this.ring.subarray(0, this.byteLength - first), first);
    this.ring = grown;
    this.head = 0;
  }

  /** Drops the audio before `position`, and the marks before it (those at it stay: they precede its audio). */
  private dropBefore(position: number): void {
    this.head = this.ringIndex(position);
    this.start = position;
    if (this.sentTo < position) this.sentTo = position;
    let dropped = 0;
    while (dropped < this.marks.length && this.marks[dropped]!.at < position) dropped++;
    if (dropped > 0) {
      this.marks.splice(0, dropped);
      this.marksSent = Math.max(0, this.marksSent - dropped);
    }
    if (this.start === this.end) this.head = 0; // an empty ring starts over at its first (already touched) bytes
  }
}
