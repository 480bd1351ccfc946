import { describe, expect, it } from 'vitest';
import { pcm16WavHeader, readPcm16Wav, WAV_HEADER_BYTES, WavFormatError, wavChannel } from '../../../src/recording/wav.js';

function pcmBytes(samples: number[]): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, i) => bytes.writeInt16LE(sample, i * 2));
  return bytes;
}

function chunk(id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body, body.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

describe('pcm16WavHeader', () => {
  it('writes the canonical 44-byte header of 8 kHz 16-bit stereo', () => {
    const header = pcm16WavHeader({ sampleRateHz: 8000, channels: 2 }, 10);
    expect(header.length).toBe(WAV_HEADER_BYTES);
    expect(header.toString('latin1', 0, 4)).toBe('RIFF');
    expect(header.readUInt32LE(4)).toBe(36 + 40); // everything after this field: rest of header + data
    expect(header.toString('latin1', 8, 16)).toBe('WAVEfmt ');
    expect(header.readUInt32LE(16)).toBe(16);
    expect(header.readUInt16LE(20)).toBe(1); // PCM
    expect(header.readUInt16LE(22)).toBe(2);
    expect(header.readUInt32LE(24)).toBe(8000);
    expect(header.readUInt32LE(28)).toBe(32_000); // bytes per second
    expect(header.readUInt16LE(32)).toBe(4); // block align
    expect(header.readUInt16LE(34)).toBe(16);
    expect(header.toString('latin1', 36, 40)).toBe('data');
    expect(header.readUInt32LE(40)).toBe(40);
  });

  it('refuses formats a WAV cannot describe', () => {
    expect(() => pcm16WavHeader({ sampleRateHz: 0, channels: 2 }, 1)).toThrow(RangeError);
    expect(() => pcm16WavHeader({ sampleRateHz: 8000, channels: 0 }, 1)).toThrow(RangeError);
    expect(() => pcm16WavHeader({ sampleRateHz: 8000, channels: 2 }, 2 ** 31)).toThrow(RangeError);
  });
});

describe('readPcm16Wav', () => {
  it('reads back what the header describes, channel by channel', () => {
    const samples = [1, -1, 32767, -32768, 0, 1234];
    const wav = readPcm16Wav(Buffer.concat([pcm16WavHeader({ sampleRateHz: 8000, channels: 2 }, 3), pcmBytes(samples)]));
    expect(wav).toMatchObject({ sampleRateHz: 8000, channels: 2, frames: 3 });
    expect([...wav.samples]).toEqual(samples);
    expect([...wavChannel(wav, 0)]).toEqual([1, 32767, 0]);
    expect([...wavChannel(wav, 1)]).toEqual([-1, -32768, 1234]);
    expect(() => wavChannel(wav, 2)).toThrow(RangeError);
  });

  it('skips other chunks, honouring the pad byte of an odd-sized one', () => {
    const fmt = pcm16WavHeader({ sampleRateHz: 16000, channels: 1 }, 0).subarray(12, 36);
    const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), fmt, chunk('LIST', Buffer.from('INFOx', 'latin1')), chunk('data', pcmBytes([5, 6, 7]))]);
    const riff = Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.alloc(4), body]);
    riff.writeUInt32LE(body.length, 4);
    const wav = readPcm16Wav(riff);
    expect(wav).toMatchObject({ sampleRateHz: 16000, channels: 1, frames: 3 });
    expect([...wav.samples]).toEqual([5, 6, 7]);
  });

  it('reads what is there of a data chunk cut short', () => {
    const full = Buffer.concat([pcm16WavHeader({ sampleRateHz: 8000, channels: 2 }, 100), pcmBytes([1, 2, 3, 4, 5])]);
    const wav = readPcm16Wav(full);
    expect(wav.frames).toBe(2); // the fifth sample is half a frame
    expect([...wav.samples]).toEqual([1, 2, 3, 4]);
  });

  it('refuses what is not 16-bit PCM WAV, with a reason', () => {
    expect(() => readPcm16Wav(Buffer.from('not a wav at all'))).toThrow(WavFormatError);
    const eightBit = pcm16WavHeader({ sampleRateHz: 8000, channels: 1 }, 0);
    eightBit.writeUInt16LE(8, 34);
    expect(() => readPcm16Wav(eightBit)).toThrow(/16-bit PCM/);
    const noData = pcm16WavHeader({ sampleRateHz: 8000, channels: 1 }, 0).subarray(0, 36);
    expect(() => readPcm16Wav(noData)).toThrow(/no data chunk/);
    const dataFirst = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), chunk('data', pcmBytes([1]))]);
    expect(() => readPcm16Wav(dataFirst)).toThrow(/before fmt/);
  });
});
