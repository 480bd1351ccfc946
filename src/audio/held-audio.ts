import { MODEL_INPUT_SAMPLE_RATE_HZ, PCM16_BYTES_PER_SAMPLE } from './format.js';

/** Caller audio for the model, 16 kHz PCM16: bytes per millisecond. */
const MODEL_INPUT_BYTES_PER_MS = (MODEL_INPUT_SAMPLE_RATE_HZ / 1000) * PCM16_BYTES_PER_SAMPLE;
/** Held caller audio is capped at this much; the oldest goes first. */
export const MAX_HELD_AUDIO_MS = 30_000;
/** The cap in memory: MAX_HELD_AUDIO_MS of 16 kHz PCM16. */
export const MAX_HELD_AUDIO_BYTES = MAX_HELD_AUDIO_MS * MODEL_INPUT_BYTES_PER_MS;
/** Held audio lives in blocks of this many bytes (32 frames of 20 ms), shared by every call through one pool. */
const BLOCK_BYTES = 32 * 20 * MODEL_INPUT_BYTES_PER_MS;
/** Free blocks kept for reuse (about 20 MiB); beyond it a freed block is left to the garbage collector. */
const MAX_POOLED_BLOCKS = 1_024;
const freeBlocks: Buffer[] = [];

function takeBlock(): Buffer {
  return freeBlocks.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);
}

function releaseBlock(block: Buffer): void {
  if (freeBlocks.length < MAX_POOLED_BLOCKS) freeBlocks.push(block);
}
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
 * sessions switching). The audio is held in fixed blocks of bytes outside the JavaScript heap, taken from and given
 * back to one pool for the process, so holding seconds of it costs the garbage collector nothing, a frame costs one
 * copy in, and a call holds memory for what it holds now, not for the most it ever held. Activity marks keep their
 * place in the audio. Whatever a stream sends, at most MAX_HELD_AUDIO_MS is held, the oldest dropped first (sent
 * before unsent). Positions count bytes of audio since the call started; lengths are whole samples.
 */
export class HeldAudio {
  /** The blocks in order; the first starts at stream position `blocksStart`. */
  private readonly blocks: Buffer[] = [];
  private blocksStart = 0;
  /** Stream positions: the oldest held byte, the end of what a session has had, the end of what is held. */
  private start = 0;
  private sentTo = 0;
  private end = 0;
  /** Marks held, in order; those before `marksSent` a session has had. */
  private marks: ActivityMark[] = [];
  private marksSent = 0;

  constructor(private readonly maxBytes = MAX_HELD_AUDIO_BYTES) {}

  /** New caller audio, after everything held; not sent yet. */
  append(audio: Uint8Array): void {
    const kept = audio.length > this.maxBytes ? audio.subarray(audio.length - this.maxBytes) : audio;
    if (this.byteLength + kept.length > this.maxBytes) this.dropBefore(this.end + kept.length - this.maxBytes);
    for (let copied = 0; copied < kept.length; ) {
      const offset = (this.end - this.blocksStart) % BLOCK_BYTES;
      if (offset === 0 && this.end - this.blocksStart === this.blocks.length * BLOCK_BYTES) this.blocks.push(takeBlock());
      const block = this.blocks[Math.floor((this.end - this.blocksStart) / BLOCK_BYTES)]!;
      const size = Math.min(kept.length - copied, BLOCK_BYTES - offset);
      block.set(kept.subarray(copied, copied + size), offset);
      copied += size;
      this.end += size;
    }
  }

  /** The caller started or stopped talking, after the audio held so far; not sent yet. */
  appendActivity(activity: Activity): void {
    this.marks.push({ at: this.end, activity });
  }

  /**
   * Offers what has not been sent to `sink`, in order: audio in pieces of at most MAX_SEND_CHUNK_BYTES (views into
   * the blocks, valid during the call), marks in their places. Stops at the first refusal; returns whether all went.
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
      const block = this.blocks[Math.floor((this.sentTo - this.blocksStart) / BLOCK_BYTES)]!;
      const offset = (this.sentTo - this.blocksStart) % BLOCK_BYTES;
      const size = Math.min((mark?.at ?? this.end) - this.sentTo, MAX_SEND_CHUNK_BYTES, BLOCK_BYTES - offset);
      if (!sink.sendAudio(block.subarray(offset, offset + size))) return false;
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

  /** Audio no session will need again or past the cap: whole blocks before `position` go back to the pool. */
  private dropBefore(position: number): void {
    this.start = position;
    if (this.sentTo < position) this.sentTo = position;
    while (this.blocks.length > 0 && this.blocksStart + BLOCK_BYTES <= position) {
      releaseBlock(this.blocks.shift()!);
      this.blocksStart += BLOCK_BYTES;
    }
    // Nothing held: the block still kept (if any) is reused from its start.
    if (this.start === this.end) this.blocksStart = this.end;
    this.dropMarksBefore(position);
  }

  /** Drops the marks before `position` (those at it stay: they precede its audio). */
  private dropMarksBefore(position: number): void {
    let dropped = 0;
    while (dropped < this.marks.length && this.marks[dropped]!.at < position) dropped++;
    if (dropped > 0) {
      this.marks.splice(0, dropped);
      this.marksSent = Math.max(0, this.marksSent - dropped);
    }
  }
}
