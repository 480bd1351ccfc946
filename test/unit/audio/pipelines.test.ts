import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import { CallerToModelAudio } from '../../../src/audio/caller-to-model.js';
import { Downsampler3x } from '../../../src/audio/downsampler-3x.js';
import {
  FRAME_MS,
  MODEL_INPUT_SAMPLE_RATE_HZ,
  MODEL_OUTPUT_SAMPLE_RATE_HZ,
  PCM16_BYTES_PER_SAMPLE,
  TWILIO_FRAME_BYTES,
  TWILIO_SAMPLE_RATE_HZ,
} from '../../../src/audio/format.js';
import { ModelToCallerAudio } from '../../../src/audio/model-to-caller.js';
import { Upsampler2x } from '../../../src/audio/upsampler-2x.js';
import {
  TEST_TONE_AMPLITUDE,
  amplitudeRatioDb,
  fitSinusoids,
  generateTone,
  generateTwoToneSignal,
  seededRandom,
  thdPlusNDb,
} from '../../support/tone-analysis.js';

const { mulaw: reference } = alawmulaw;
const MODEL_FRAME_BYTES = ((MODEL_OUTPUT_SAMPLE_RATE_HZ * FRAME_MS) / 1000) * PCM16_BYTES_PER_SAMPLE;
const REFERENCE_TONE_HZ = 1020;

/** Int16 -> PCM16LE bytes without relying on host endianness. */
function toPcm16le(samples: Int16Array): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, i) => bytes.writeInt16LE(sample, 2 * i));
  return bytes;
}
function fromPcm16le(bytes: Uint8Array): Int16Array {
  const buffer = Buffer.from(bytes);
  return Int16Array.from({ length: buffer.length >> 1 }, (_, i) => buffer.readInt16LE(2 * i));
}
function frames(bytes: Buffer, frameBytes: number): Buffer[] {
  const result: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += frameBytes) result.push(bytes.subarray(start, start + frameBytes));
  return result;
}
const concat = (parts: readonly Uint8Array[]): Buffer => Buffer.concat(parts.map((part) => Buffer.from(part)));

const callerMulaw = Buffer.from(reference.encode(generateTwoToneSignal(TWILIO_SAMPLE_RATE_HZ, 1)));
const modelPcm = toPcm16le(generateTwoToneSignal(MODEL_OUTPUT_SAMPLE_RATE_HZ, 1));

describe('CallerToModelAudio', () => {
  it('turns each 160-byte Twilio frame into 640 bytes of PCM16LE', () => {
    const pipeline = new CallerToModelAudio();
    for (const frame of frames(callerMulaw, TWILIO_FRAME_BYTES)) expect(pipeline.convert(frame).length).toBe(640);
  });

  it('matches an independent decode -> upsample -> little-endian reference', () => {
    const pipeline = new CallerToModelAudio();
    const upsampler = new Upsampler2x();
    for (const frame of frames(callerMulaw, TWILIO_FRAME_BYTES)) {
      const expected = new Int16Array(2 * frame.length);
      upsampler.process(reference.decode(frame), expected);
      expect(Buffer.from(pipeline.convert(frame)).equals(toPcm16le(expected))).toBe(true);
    }
  });

  it('gives the same stream whatever the frame sizes, and nothing for no input', () => {
    const whole = Buffer.from(new CallerToModelAudio().convert(callerMulaw));
    const pipeline = new CallerToModelAudio();
    const random = seededRandom(3);
    const parts: Buffer[] = [];
    for (let start = 0; start < callerMulaw.length; ) {
      const frame = callerMulaw.subarray(start, start + 1 + Math.floor(random() * 400));
      start += frame.length;
      parts.push(Buffer.from(pipeline.convert(frame)));
    }
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
    expect(new CallerToModelAudio().convert(new Uint8Array(0)).length).toBe(0);
  });
});

describe('ModelToCallerAudio', () => {
  const expectedMulaw = (): Uint8Array => {
    const samples = fromPcm16le(modelPcm);
    const decimated = new Int16Array(Downsampler3x.maxOutputLength(samples.length));
    const count = new Downsampler3x().process(samples, decimated);
    return reference.encode(decimated.subarray(0, count));
  };

  it('turns each 20 ms chunk (960 bytes) into 160 mu-law bytes matching an independent reference', () => {
    const pipeline = new ModelToCallerAudio();
    const outputs = frames(modelPcm, MODEL_FRAME_BYTES).map((chunk) => {
      const mulaw = pipeline.convert(chunk);
      expect(mulaw.length).toBe(TWILIO_FRAME_BYTES);
      return Uint8Array.from(mulaw);
    });
    expect(concat(outputs).equals(Buffer.from(expectedMulaw()))).toBe(true);
  });

  it('gives the same output when chunks split samples at odd byte counts', () => {
    const random = seededRandom(11);
    for (const nextLength of [() => 1, () => 3, () => 961, () => 1 + 2 * Math.floor(random() * 1500)]) {
      const pipeline = new ModelToCallerAudio();
      const outputs: Uint8Array[] = [];
      for (let start = 0; start < modelPcm.length; ) {
        const chunk = modelPcm.subarray(start, start + nextLength());
        start += chunk.length;
        outputs.push(Uint8Array.from(pipeline.convert(chunk)));
      }
      expect(concat(outputs).equals(Buffer.from(expectedMulaw()))).toBe(true);
    }
  });

  it('drops the dangling byte and filter state on reset()', () => {
    const pipeline = new ModelToCallerAudio();
    pipeline.convert(modelPcm.subarray(0, 1235));
    pipeline.reset();
    const outputs = frames(modelPcm, MODEL_FRAME_BYTES).map((chunk) => Uint8Array.from(pipeline.convert(chunk)));
    expect(concat(outputs).equals(Buffer.from(expectedMulaw()))).toBe(true);
  });

  it('returns nothing for chunks too short to complete an output sample', () => {
    const pipeline = new ModelToCallerAudio();
    expect(pipeline.convert(new Uint8Array(0)).length).toBe(0);
    expect(pipeline.convert(Uint8Array.of(0x34)).length).toBe(0); // half a sample
    expect(pipeline.convert(Uint8Array.of(0x12, 0x56, 0x78)).length).toBe(0); // 2 samples in total
    expect(pipeline.convert(Uint8Array.of(0x9a, 0xbc)).length).toBe(1); // the 3rd sample completes
  });
});

describe('round trip', () => {
  // 1020 Hz rather than 1000 Hz (G.712 practice): 1000 Hz repeats every 8 samples at 8 kHz, so the mu-law
  // error would be periodic and bias the fitted level by 0.13 dB instead of averaging out.
  it('carries a 1020 Hz tone model -> mu-law -> model at the same level, within mu-law noise', () => {
    const outbound = new ModelToCallerAudio();
    const inbound = new CallerToModelAudio();
    const tone = toPcm16le(generateTone(REFERENCE_TONE_HZ, MODEL_OUTPUT_SAMPLE_RATE_HZ));
    const pcm16k = concat(
      frames(tone, MODEL_FRAME_BYTES).map((chunk) =>
        Buffer.from(inbound.convert(outbound.convert(chunk))),
      ),
    );
    expect(pcm16k.length).toBe((tone.length / 3) * 2);

    const fit = fitSinusoids(fromPcm16le(pcm16k), MODEL_INPUT_SAMPLE_RATE_HZ, [REFERENCE_TONE_HZ]);
    expect(Math.abs(amplitudeRatioDb(fit.sinusoids[0]!.amplitude, TEST_TONE_AMPLITUDE))).toBeLessThanOrEqual(0.1);
    // mu-law alone gives about 36 dB SNR at -6 dBFS (docs/audio-dsp.md §3.1); the filters must not add to it.
    expect(thdPlusNDb(fit)).toBeLessThanOrEqual(-33);
  });
});
