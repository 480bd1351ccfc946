import { endianness } from 'node:os';
import { PCM16_BYTES_PER_SAMPLE } from './format.js';
import { mulawDecode } from './mulaw.js';
import { Upsampler2x } from './upsampler-2x.js';

// The upsampler writes into an Int16Array that shares memory with the outgoing bytes, which
// is PCM16 *little-endian* only on a little-endian host (every platform Node runs on in practice).
if (endianness() !== 'LE') throw new Error('audio pipeline requires a little-endian host');

/**
 * Per-call inbound audio: Twilio 8 kHz mu-law -> Gemini 16 kHz PCM16LE.
 * Stateful (the upsampler carries history across frames), so use one instance per call.
 * Scratch buffers grow to the largest frame seen and are then reused.
 */
export class CallerToModelAudio {
  private readonly upsampler = new Upsampler2x();
  private decoded = new Int16Array(0);
  private pcm = new Int16Array(0);
  private pcmBytes = Buffer.alloc(0);

  /** Mu-law bytes -> PCM16LE 16 kHz bytes, as a view into internal memory valid until the next call. */
  convert(mulaw: Uint8Array): Buffer {
    this.ensureCapacity(mulaw.length);
    return this.pcmBytes.subarray(0, this.process(mulaw, mulaw.length));
  }

  /** Drops the filter history, e.g. when the stream restarts. */
  reset(): void {
    this.upsampler.reset();
  }

  /** Returns the number of PCM bytes written to `pcmBytes`. */
  private process(mulaw: Uint8Array, mulawLength: number): number {
    mulawDecode(mulaw, this.decoded, 0, mulawLength);
    return this.upsampler.process(this.decoded, this.pcm, 0, mulawLength) * PCM16_BYTES_PER_SAMPLE;
  }

  private ensureCapacity(mulawBytes: number): void {
    if (mulawBytes <= this.decoded.length) return;
    this.decoded = new Int16Array(mulawBytes);
    const pcmMemory = new ArrayBuffer(2 * mulawBytes * PCM16_BYTES_PER_SAMPLE);
    this.pcm = new Int16Array(pcmMemory);
    this.pcmBytes = Buffer.from(pcmMemory);
  }
}
