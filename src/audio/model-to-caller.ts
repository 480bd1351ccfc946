import { endianness } from 'node:os';
import { Downsampler3x } from './downsampler-3x.js';
import { PCM16_BYTES_PER_SAMPLE } from './format.js';
import { mulawEncode } from './mulaw.js';

// Incoming bytes are read through an Int16Array view, which is PCM16 *little-endian* only on a
// little-endian host (every platform Node runs on in practice).
if (endianness() !== 'LE') throw new Error('audio pipeline requires a little-endian host');

/**
 * Per-call outbound audio: Gemini 24 kHz PCM16LE -> Twilio 8 kHz mu-law, unframed.
 * Chunks may split a sample (odd byte counts); the stray byte is carried into the next chunk,
 * so the output depends only on the concatenated byte stream.
 * Scratch buffers grow to the largest chunk seen and are then reused.
 */
export class ModelToCallerAudio {
  private readonly downsampler = new Downsampler3x();
  /** Low byte of a sample split across chunks, or -1. */
  private danglingByte = -1;
  private pcmBytes = Buffer.alloc(0);
  private pcm = new Int16Array(0);
  private decimated = new Int16Array(0);
  private mulaw = new Uint8Array(0);

  /**
   * PCM16LE 24 kHz bytes -> 8 kHz mu-law bytes, as a view into internal memory valid until the next call.
   * May be empty when the chunk is tiny.
   */
  convert(pcm24k: Uint8Array): Uint8Array {
    const carried = this.carryIn(pcm24k.length);
    this.pcmBytes.set(pcm24k, carried);
    return this.process(carried + pcm24k.length);
  }

  /** Barge-in / flush: drops the split byte and the filter state so the next reply starts clean. */
  reset(): void {
    this.downsampler.reset();
    this.danglingByte = -1;
  }

  /** Makes room for the carried byte plus `incomingBytes`, puts the carried byte first, returns its size. */
  private carryIn(incomingBytes: number): number {
    const carried = this.danglingByte < 0 ? 0 : 1;
    this.ensureCapacity(carried + incomingBytes);
    if (carried) this.pcmBytes[0] = this.danglingByte;
    return carried;
  }

  private process(byteLength: number): Uint8Array {
    const samples = Math.floor(byteLength / PCM16_BYTES_PER_SAMPLE);
    this.danglingByte = byteLength % PCM16_BYTES_PER_SAMPLE ? this.pcmBytes[byteLength - 1]! : -1;
    const decimatedLength = this.downsampler.process(this.pcm, this.decimated, 0, samples);
    mulawEncode(this.decimated, this.mulaw, 0, decimatedLength);
    return this.mulaw.subarray(0, decimatedLength);
  }

  private ensureCapacity(pcmBytes: number): void {
    if (pcmBytes <= this.pcmBytes.length) return;
    const samples = Math.ceil(pcmBytes / PCM16_BYTES_PER_SAMPLE);
    const pcmMemory = new ArrayBuffer(samples * PCM16_BYTES_PER_SAMPLE);
    this.pcmBytes = Buffer.from(pcmMemory);
    this.pcm = new Int16Array(pcmMemory);
    this.decimated = new Int16Array(Downsampler3x.maxOutputLength(samples));
    this.mulaw = new Uint8Array(this.decimated.length);
  }
}
