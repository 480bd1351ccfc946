/**
 * RIFF/WAVE, linear PCM 16-bit little-endian: the format every audio tool opens. Pure functions,
 * no I/O: the header for a known length, and a reader for the WAVs we write (and any plain PCM16 WAV).
 */

/** A canonical PCM WAV header: `RIFF` + `fmt ` (16 bytes) + `data` chunk header. */
export const WAV_HEADER_BYTES = 44;
const PCM_FORMAT_TAG = 1;
const BITS_PER_SAMPLE = 16;
const BYTES_PER_SAMPLE = BITS_PER_SAMPLE / 8;
/** RIFF sizes are unsigned 32-bit: a WAV holds at most 4 GiB of audio (≈ 37 hours of 8 kHz stereo). */
export const MAX_WAV_DATA_BYTES = 0xffff_ffff - (WAV_HEADER_BYTES - 8);

export interface Pcm16Format {
  sampleRateHz: number;
  channels: number;
}

export interface Pcm16Wav extends Pcm16Format {
  /** Interleaved samples (frame by frame, channel 0 first). */
  samples: Int16Array;
  /** Sample frames (samples per channel). */
  frames: number;
}

export class WavFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavFormatError';
  }
}

/** The 44-byte header of a PCM16 WAV holding `frames` sample frames. */
export function pcm16WavHeader({ sampleRateHz, channels }: Pcm16Format, frames: number): Buffer {
  if (!Number.isInteger(sampleRateHz) || sampleRateHz <= 0) throw new RangeError(`sample rate must be a positive integer (got ${sampleRateHz})`);
  if (!Number.isInteger(channels) || channels < 1 || channels > 16) throw new RangeError(`channels must be 1 to 16 (got ${channels})`);
  const blockAlign = channels * BYTES_PER_SAMPLE;
  const dataBytes = frames * blockAlign;
  if (!Number.isInteger(frames) || frames < 0 || dataBytes > MAX_WAV_DATA_BYTES) throw new RangeError(`a WAV cannot hold ${frames} frames`);
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataBytes, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(PCM_FORMAT_TAG, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRateHz, 24);
  header.writeUInt32LE(sampleRateHz * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(BITS_PER_SAMPLE, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/**
 * Reads a PCM16 WAV: walks the RIFF chunks (skipping `LIST` and the like, honouring pad bytes), and
 * refuses anything that is not 16-bit integer PCM. A `data` size past the end of the file (a
 * recording cut short) is read up to the end.
 */
export function readPcm16Wav(bytes: Uint8Array): Pcm16Wav {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 12 || buffer.toString('latin1', 0, 4) !== 'RIFF' || buffer.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  let format: Pcm16Format | undefined;
  let offset = 12;
  while (offset + 8 <= buffer.length) {
    const id = buffer.toString('latin1', offset, offset + 4);
    const size = buffer.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buffer.length) throw new WavFormatError('truncated fmt chunk');
      const tag = buffer.readUInt16LE(body);
      const channels = buffer.readUInt16LE(body + 2);
      const sampleRateHz = buffer.readUInt32LE(body + 4);
      const bits = buffer.readUInt16LE(body + 14);
      // WAVE_FORMAT_EXTENSIBLE (0xfffe) wraps the same PCM; its sub-format is not checked here.
      if ((tag !== PCM_FORMAT_TAG && tag !== 0xfffe) || bits !== BITS_PER_SAMPLE) {
        throw new WavFormatError(`only 16-bit PCM is supported (format ${tag}, ${bits} bits)`);
      }
      if (channels < 1 || sampleRateHz < 1) throw new WavFormatError('fmt chunk has no channels or no sample rate');
      format = { sampleRateHz, channels };
    } else if (id === 'data') {
      if (format === undefined) throw new WavFormatError('data chunk before fmt chunk');
      const available = Math.min(size, buffer.length - body);
      const blockAlign = format.channels * BYTES_PER_SAMPLE;
      const frames = Math.floor(available / blockAlign);
      const samples = new Int16Array(frames * format.channels);
      for (let i = 0; i < samples.length; i++) samples[i] = buffer.readInt16LE(body + i * BYTES_PER_SAMPLE);
      return { ...format, samples, frames };
    }
    offset = body + size + (size % 2); // chunks are word-aligned
  }
  throw new WavFormatError(format === undefined ? 'no fmt chunk' : 'no data chunk');
}

/** One channel of an interleaved WAV. */
export function wavChannel(wav: Pcm16Wav, channel: number): Int16Array {
  if (channel < 0 || channel >= wav.channels) throw new RangeError(`no channel ${channel} in a ${wav.channels}-channel WAV`);
  const out = new Int16Array(wav.frames);
  for (let i = 0; i < wav.frames; i++) out[i] = wav.samples[i * wav.channels + channel]!;
  return out;
}
