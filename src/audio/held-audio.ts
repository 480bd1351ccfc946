import { MODEL_INPUT_SAMPLE_RATE_HZ, PCM16_BYTES_PER_SAMPLE } from './format.js';

/** Caller audio for the model, 16 kHz PCM16: bytes per millisecond. */
const MODEL_INPUT_BYTES_PER_MS = (MODEL_INPUT_SAMPLE_RATE_HZ / 1000) * PCM16_BYTES_PER_SAMPLE;
/** Held caller audio is capped at this much; the oldest goes first. */
export const MAX_HELD_AUDIO_MS = 30_000;
/** The cap in memory: MAX_HELD_AUDIO_MS of 16 kHz PCM16 as base64 (4 characters, one byte each, per 3 bytes). */
export const MAX_HELD_AUDIO_BYTES = Math.ceil((MAX_HELD_AUDIO_MS * MODEL_INPUT_BYTES_PER_MS * 4) / 3);

/** Where the call says the caller started or stopped talking (local turn detection): kept in order with the audio. */
export interface ActivityMark {
  readonly activity: 'start' | 'end';
}
export const ACTIVITY_START: ActivityMark = Object.freeze({ activity: 'start' });
export const ACTIVITY_END: ActivityMark = Object.freeze({ activity: 'end' });

/** One item of caller input: a chunk of audio (base64 of 16 kHz PCM16), or an activity mark. */
export type HeldInput = string | ActivityMark;

/**
 * Caller audio held for a model session that has not heard it: what was sent since the latest resumption handle
 * (a session resumed from that handle needs it again) or what arrived while sessions switched. Chunks are kept as
 * the Live API's wire form (base64 of 16 kHz PCM16), encoded once, with the activity marks between them. At most
 * `maxBytes` of audio: whatever a stream sends, a call holds no more than MAX_HELD_AUDIO_MS per buffer, the oldest
 * dropped first.
 */
export class HeldAudio {
  private chunks: HeldInput[] = [];
  private bytes = 0;
  private decodedBytes = 0;

  constructor(private readonly maxBytes = MAX_HELD_AUDIO_BYTES) {}

  push(input: HeldInput): void {
    this.chunks.push(input);
    if (typeof input !== 'string') return;
    this.bytes += input.length;
    this.decodedBytes += base64DecodedLength(input);
    while (this.bytes > this.maxBytes) {
      const oldest = this.chunks.shift() as HeldInput;
      if (typeof oldest !== 'string') continue;
      this.bytes -= oldest.length;
      this.decodedBytes -= base64DecodedLength(oldest);
    }
  }

  /** Everything held, oldest first; the buffer is left empty. */
  takeAll(): HeldInput[] {
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    this.decodedBytes = 0;
    return chunks;
  }

  /** How much audio is held, ms. */
  get durationMs(): number {
    return this.decodedBytes / MODEL_INPUT_BYTES_PER_MS;
  }

  /** Memory held, bytes (the base64 text). */
  get byteLength(): number {
    return this.bytes;
  }
}

function base64DecodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}
