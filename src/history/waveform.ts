import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { readPcm16Wav, WAV_HEADER_BYTES, type Pcm16Wav } from '../recording/wav.js';

/** A recording drawn as a line: each channel's loudest sample per bucket, 0 to 1 (full scale). */
export interface Waveform {
  durationMs: number;
  /** Milliseconds of audio each point stands for. */
  bucketMs: number;
  caller: number[];
  agent: number[];
}

export const MAX_WAVEFORM_POINTS = 4_000;
const FULL_SCALE = 32_768;
const READ_CHUNK_BYTES = 1 << 20;

/**
 * Peaks of an interleaved PCM16 recording (caller left, agent right) in a fixed number of buckets, fed in chunks:
 * a 30-minute call is 14.4 million frames, a page needs a few thousand points to draw it.
 */
class PeakAccumulator {
  readonly caller: number[];
  readonly agent: number[];
  private frame = 0;

  constructor(
    private readonly frames: number,
    private readonly channels: number,
    private readonly buckets: number,
  ) {
    this.caller = new Array<number>(buckets).fill(0);
    this.agent = new Array<number>(buckets).fill(0);
  }

  push(samples: Int16Array): void {
    const { channels, buckets, frames } = this;
    for (let i = 0; i + channels <= samples.length; i += channels, this.frame++) {
      const bucket = Math.min(buckets - 1, Math.floor((this.frame * buckets) / frames));
      const left = Math.abs(samples[i] as number);
      const right = channels > 1 ? Math.abs(samples[i + 1] as number) : 0;
      if (left > (this.caller[bucket] as number)) this.caller[bucket] = left;
      if (right > (this.agent[bucket] as number)) this.agent[bucket] = right;
    }
  }

  result(sampleRateHz: number): Waveform {
    const durationMs = (this.frames / sampleRateHz) * 1000;
    const scale = (peak: number): number => Math.round((peak / FULL_SCALE) * 1000) / 1000;
    return { durationMs: Math.round(durationMs), bucketMs: this.frames === 0 ? 0 : durationMs / this.buckets, caller: this.caller.map(scale), agent: this.agent.map(scale) };
  }
}

function bucketCount(points: number, frames: number): number {
  return Math.max(1, Math.min(MAX_WAVEFORM_POINTS, Math.floor(points), frames));
}

export function waveformPeaks(wav: Pcm16Wav, points: number): Waveform {
  const peaks = new PeakAccumulator(wav.frames, wav.channels, bucketCount(points, wav.frames));
  peaks.push(wav.samples);
  return peaks.result(wav.sampleRateHz);
}

/**
 * The peaks of a recording file, read in 1 MiB chunks (a 30-minute stereo call is 58 MB): the service's own WAVs
 * have the canonical 44-byte header; any other WAV is read whole.
 */
export async function waveformOfFile(file: string, points: number): Promise<Waveform> {
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  const handle = await open(file, 'r');
  const { size } = await handle.stat();
  await handle.read(header, 0, WAV_HEADER_BYTES, 0).finally(() => handle.close());
  if (!isCanonicalPcm16(header)) return waveformPeaks(readPcm16Wav(await readFile(file)), points);
  const channels = header.readUInt16LE(22);
  const sampleRateHz = header.readUInt32LE(24);
  const dataBytes = Math.min(header.readUInt32LE(40), size - WAV_HEADER_BYTES);
  const frames = Math.floor(dataBytes / (2 * channels));
  const peaks = new PeakAccumulator(frames, channels, bucketCount(points, frames));
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { start: WAV_HEADER_BYTES, end: WAV_HEADER_BYTES + frames * 2 * channels - 1, highWaterMark: READ_CHUNK_BYTES })) {
    const bytes: Buffer = carry.length === 0 ? (chunk as Buffer) : Buffer.concat([carry, chunk as Buffer]);
    const whole = bytes.length - (bytes.length % (2 * channels));
    // Copied into an aligned array; Int16Array reads the platform's byte order, little-endian like WAV on every
    // platform Node ships for (x64, arm64).
    const samples = new Int16Array(whole / 2);
    new Uint8Array(samples.buffer).set(bytes.subarray(0, whole));
    peaks.push(samples);
    carry = bytes.subarray(whole);
  }
  return peaks.result(sampleRateHz);
}

function isCanonicalPcm16(header: Buffer): boolean {
  return (
    header.toString('latin1', 0, 4) === 'RIFF' &&
    header.toString('latin1', 8, 16) === 'WAVEfmt ' &&
    header.readUInt16LE(20) === 1 &&
    header.readUInt16LE(34) === 16 &&
    header.toString('latin1', 36, 40) === 'data'
  );
}
