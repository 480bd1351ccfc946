/**
 * PCM16 helpers for the fake Gemini Live server.
 *
 * The Live API carries raw PCM16 little-endian mono as base64 (16 kHz in, 24 kHz out), so the fake
 * needs exact, endianness-safe conversions and a growable record of everything the caller sent.
 */
import { endianness } from 'node:os';

const HOST_IS_LE = endianness() === 'LE';

/** Strict base64 check: the real service rejects undecodable `bytes` fields instead of guessing. */
export function isBase64(data: string): boolean {
  return data.length % 4 !== 1 && /^[A-Za-z0-9+/_-]*={0,2}$/.test(data);
}

/** base64 PCM16LE → samples. A trailing odd byte (half a sample) is ignored. */
export function decodePcm16Base64(data: string): Int16Array {
  const bytes = Buffer.from(data, 'base64');
  const count = bytes.length >> 1;
  if (HOST_IS_LE && bytes.byteOffset % 2 === 0) {
    // Copy so the result does not alias Node's shared Buffer pool.
    return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 2));
  }
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.readInt16LE(i * 2);
  return out;
}

/** samples → base64 PCM16LE (explicit LE so the wire format never depends on the host). */
export function encodePcm16Base64(samples: Int16Array): string {
  if (HOST_IS_LE) {
    return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
  }
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i] ?? 0, i * 2);
  return bytes.toString('base64');
}

/** RMS relative to full scale (0..1). Empty input → 0. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = (samples[i] ?? 0) / 32768;
    sum += v * v;
  }
  return Math.sqrt(sum / samples.length);
}

/** RMS in dBFS (full-scale square wave = 0 dBFS, full-scale sine ≈ −3 dBFS); silence → −Infinity. */
export function dbfs(samples: Int16Array): number {
  const r = rms(samples);
  return r === 0 ? -Infinity : 20 * Math.log10(r);
}

/**
 * Stateful linear resampler to 16 kHz. The service resamples `audio/pcm;rate=N` input itself; the fake
 * does the same so its VAD timeline stays in real milliseconds whatever rate the client declares.
 */
export class LinearResamplerTo16k {
  private readonly step: number;
  private pos = 0; // fractional read position relative to the first sample of the next input chunk
  private last: number | undefined;

  constructor(readonly inputRate: number) {
    this.step = inputRate / 16000;
  }

  process(input: Int16Array): Int16Array {
    if (this.inputRate === 16000) return input;
    // Prepend the previous chunk's last sample so interpolation is continuous across chunks.
    const src = this.last === undefined ? input : prepend(this.last, input);
    const offset = this.last === undefined ? 0 : 1;
    const out: number[] = [];
    let p = this.pos + offset;
    while (p <= src.length - 1) {
      const i = Math.floor(p);
      const frac = p - i;
      const a = src[i] ?? 0;
      const b = src[i + 1] ?? a;
      out.push(Math.round(a + (b - a) * frac));
      p += this.step;
    }
    if (input.length > 0) {
      this.last = input[input.length - 1];
      this.pos = p - offset - input.length;
    }
    return Int16Array.from(out);
  }
}

function prepend(first: number, rest: Int16Array): Int16Array {
  const out = new Int16Array(rest.length + 1);
  out[0] = first;
  out.set(rest, 1);
  return out;
}

/** Read-only view of everything the caller streamed, on the 16 kHz audio timeline. */
export interface ReceivedAudio {
  readonly sampleRate: 16000;
  /** Samples received so far. */
  readonly sampleCount: number;
  /** Audio timeline length in seconds (= sampleCount / 16000). */
  readonly seconds: number;
  /** Copy of all samples received so far. */
  samples(): Int16Array;
  /** Copy of the samples between two points of the audio timeline (ms). */
  slice(fromMs: number, toMs?: number): Int16Array;
  /** RMS (0..1 of full scale) over the whole stream or a ms range. */
  rms(fromMs?: number, toMs?: number): number;
  /** RMS in dBFS over the whole stream or a ms range. */
  dbfs(fromMs?: number, toMs?: number): number;
}

/** Growable PCM16 buffer (doubling) so long calls do not re-copy on every 20 ms chunk. */
export class AudioAccumulator implements ReceivedAudio {
  readonly sampleRate = 16000 as const;
  private buf = new Int16Array(16000);
  private len = 0;

  append(samples: Int16Array): void {
    if (this.len + samples.length > this.buf.length) {
      let size = this.buf.length;
      while (size < this.len + samples.length) size *= 2;
      const next = new Int16Array(size);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(samples, this.len);
    this.len += samples.length;
  }

  get sampleCount(): number {
    return this.len;
  }

  get seconds(): number {
    return this.len / this.sampleRate;
  }

  samples(): Int16Array {
    return this.buf.slice(0, this.len);
  }

  slice(fromMs: number, toMs?: number): Int16Array {
    const from = clamp(Math.round(fromMs * 16), 0, this.len);
    const to = clamp(toMs === undefined ? this.len : Math.round(toMs * 16), from, this.len);
    return this.buf.slice(from, to);
  }

  rms(fromMs = 0, toMs?: number): number {
    return rms(this.slice(fromMs, toMs));
  }

  dbfs(fromMs = 0, toMs?: number): number {
    return dbfs(this.slice(fromMs, toMs));
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
