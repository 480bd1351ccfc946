import { describe, expect, it } from 'vitest';
import { DOWNSAMPLER_DELAY_MS, DOWNSAMPLER_DELAY_SAMPLES_24K, Downsampler3x } from '../../../src/audio/downsampler-3x.js';
import { FRAME_MS, MODEL_OUTPUT_SAMPLE_RATE_HZ, TWILIO_SAMPLE_RATE_HZ } from '../../../src/audio/format.js';
import {
  frequencySweep,
  generateTwoToneSignal,
  maxAbsDifference,
  measureAliasRejectionDb,
  measureGainDb,
  measureGroupDelayMs,
  measureThdPlusNDb,
  processInChunks,
  seededRandom,
  type ResamplerUnderTest,
} from '../../support/tone-analysis.js';

const downsampler: ResamplerUnderTest = {
  inputRateHz: MODEL_OUTPUT_SAMPLE_RATE_HZ,
  outputRateHz: TWILIO_SAMPLE_RATE_HZ,
  create: () => new Downsampler3x(),
};
const FRAME_SAMPLES_24K = (MODEL_OUTPUT_SAMPLE_RATE_HZ * FRAME_MS) / 1000;
const twoTones = generateTwoToneSignal(MODEL_OUTPUT_SAMPLE_RATE_HZ);
const whole = (input: Int16Array): Int16Array => processInChunks(new Downsampler3x(), input, 1 / 3, () => input.length);

describe('Downsampler3x quality (docs/audio-dsp.md §8.2)', () => {
  it('keeps the passband within +-0.1 dB from 300 to 3400 Hz', () => {
    for (const frequencyHz of [300, 1000, 2000, 3000, 3400]) {
      expect(Math.abs(measureGainDb(downsampler, frequencyHz)), `${frequencyHz} Hz`).toBeLessThanOrEqual(0.1);
    }
  });

  it('loses at most 1 dB at 3600 Hz', () => {
    expect(measureGainDb(downsampler, 3600)).toBeGreaterThanOrEqual(-1);
  });

  it('rejects aliases by at least 58 dB for inputs 4.65..11.95 kHz, and 60 dB at 5 and 9 kHz', () => {
    for (const frequencyHz of frequencySweep(4650, 11950, 100)) {
      expect(measureAliasRejectionDb(downsampler, frequencyHz), `${frequencyHz} Hz`).toBeGreaterThanOrEqual(58);
    }
    expect(measureAliasRejectionDb(downsampler, 5000)).toBeGreaterThanOrEqual(60);
    expect(measureAliasRejectionDb(downsampler, 9000)).toBeGreaterThanOrEqual(60);
  });

  it('keeps THD+N at -6 dBFS below -80 dB at 300, 1000 and 3000 Hz', () => {
    for (const frequencyHz of [300, 1000, 3000]) {
      expect(measureThdPlusNDb(downsampler, frequencyHz), `${frequencyHz} Hz`).toBeLessThanOrEqual(-80);
    }
  });

  it('has the designed group delay of 35.5 samples at 24 kHz (1.48 ms, within the 1.5 ms budget)', () => {
    expect(DOWNSAMPLER_DELAY_MS).toBeLessThanOrEqual(1.5);
    // Output m is computed at input sample 3m + 2, so measured against time m / 8 kHz it looks 2 input samples earlier.
    const expectedMs = ((DOWNSAMPLER_DELAY_SAMPLES_24K - 2) / MODEL_OUTPUT_SAMPLE_RATE_HZ) * 1000;
    for (const centreHz of [300, 1000]) {
      expect(measureGroupDelayMs(downsampler, centreHz)).toBeCloseTo(expectedMs, 2);
    }
  });
});

describe('Downsampler3x streaming', () => {
  it('turns each 20 ms frame into exactly 160 samples', () => {
    const resampler = new Downsampler3x();
    const output = new Int16Array(160);
    for (let start = 0; start < twoTones.length; start += FRAME_SAMPLES_24K) {
      expect(resampler.process(twoTones.subarray(start, start + FRAME_SAMPLES_24K), output)).toBe(160);
    }
  });

  it('produces floor(totalInput / 3) samples for any chunking, and never more than maxOutputLength per call', () => {
    const random = seededRandom(7);
    const resampler = new Downsampler3x();
    const output = new Int16Array(Downsampler3x.maxOutputLength(2000));
    let totalIn = 0;
    let totalOut = 0;
    for (let call = 0; call < 500; call++) {
      const length = 1 + Math.floor(random() * 2000);
      const written = resampler.process(twoTones.subarray(0, length), output);
      expect(written).toBeLessThanOrEqual(Downsampler3x.maxOutputLength(length));
      totalIn += length;
      totalOut += written;
      expect(totalOut).toBe(Math.floor(totalIn / 3));
    }
  });

  it('gives bit-identical output for 20 ms, random (1..2000) and 1-sample chunks', () => {
    const reference = whole(twoTones);
    expect(reference.length).toBe(twoTones.length / 3);
    const random = seededRandom(0x5eed);
    const chunkings: Record<string, () => number> = {
      '20 ms': () => FRAME_SAMPLES_24K,
      'random 1..2000': () => 1 + Math.floor(random() * 2000),
      '1 sample': () => 1,
    };
    for (const [name, nextChunkLength] of Object.entries(chunkings)) {
      const chunked = processInChunks(new Downsampler3x(), twoTones, 1 / 3, nextChunkLength);
      expect(chunked.length, name).toBe(reference.length);
      expect(maxAbsDifference(chunked, reference), name).toBe(0);
    }
  });

  it('honours inputLength and outputOffset', () => {
    const reference = whole(twoTones.subarray(0, 100));
    const output = new Int16Array(10 + 33).fill(99);
    expect(new Downsampler3x().process(twoTones, output, 10, 100)).toBe(33);
    expect(output.subarray(10)).toEqual(reference);
    expect(output.subarray(0, 10).every((v) => v === 99)).toBe(true);
    expect(() => new Downsampler3x().process(twoTones, output, 11, 100)).toThrow(RangeError);
  });

  it('after reset() behaves exactly like a fresh instance, decimation phase included', () => {
    const used = new Downsampler3x();
    processInChunks(used, twoTones.subarray(0, 1001), 1 / 3, () => 480);
    used.reset();
    expect(processInChunks(used, twoTones, 1 / 3, () => 480)).toEqual(whole(twoTones));
  });

  it('has unity DC gain', () => {
    const dc = new Int16Array(600).fill(12345);
    expect(whole(dc).subarray(50).every((v) => v === 12345)).toBe(true);
  });
});
