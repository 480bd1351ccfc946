import { describe, expect, it } from 'vitest';
import { FRAME_MS, MODEL_INPUT_SAMPLE_RATE_HZ, TWILIO_SAMPLE_RATE_HZ } from '../../../src/audio/format.js';
import { UPSAMPLER_DELAY_MS, UPSAMPLER_DELAY_SAMPLES_16K, Upsampler2x } from '../../../src/audio/upsampler-2x.js';
import {
  frequencySweep,
  generateTwoToneSignal,
  maxAbsDifference,
  measureGainDb,
  measureGroupDelayMs,
  measureImageRejectionDb,
  measureThdPlusNDb,
  processInChunks,
  seededRandom,
  type ResamplerUnderTest,
} from '../../support/tone-analysis.js';

const upsampler: ResamplerUnderTest = {
  inputRateHz: TWILIO_SAMPLE_RATE_HZ,
  outputRateHz: MODEL_INPUT_SAMPLE_RATE_HZ,
  create: () => new Upsampler2x(),
};
const FRAME_SAMPLES_8K = (TWILIO_SAMPLE_RATE_HZ * FRAME_MS) / 1000;
const twoTones = generateTwoToneSignal(TWILIO_SAMPLE_RATE_HZ);
const whole = (input: Int16Array): Int16Array => processInChunks(new Upsampler2x(), input, 2, () => input.length);

describe('Upsampler2x quality (docs/audio-dsp.md §8.2)', () => {
  it('keeps the passband within +-0.1 dB from 300 to 3400 Hz', () => {
    for (const frequencyHz of [300, 1000, 2000, 3000, 3400]) {
      expect(Math.abs(measureGainDb(upsampler, frequencyHz)), `${frequencyHz} Hz`).toBeLessThanOrEqual(0.1);
    }
  });

  it('loses at most 1 dB at 3600 Hz', () => {
    expect(measureGainDb(upsampler, 3600)).toBeGreaterThanOrEqual(-1);
  });

  it('rejects images by at least 56 dB for inputs 100..3400 Hz, and 60 dB at 1 and 3 kHz', () => {
    for (const frequencyHz of frequencySweep(100, 3400, 100)) {
      expect(measureImageRejectionDb(upsampler, frequencyHz), `${frequencyHz} Hz`).toBeGreaterThanOrEqual(56);
    }
    expect(measureImageRejectionDb(upsampler, 1000)).toBeGreaterThanOrEqual(60);
    expect(measureImageRejectionDb(upsampler, 3000)).toBeGreaterThanOrEqual(60);
  });

  it('keeps THD+N at -6 dBFS below -60 dB at 300, 1000 and 3000 Hz', () => {
    for (const frequencyHz of [300, 1000, 3000]) {
      expect(measureThdPlusNDb(upsampler, frequencyHz), `${frequencyHz} Hz`).toBeLessThanOrEqual(-60);
    }
  });

  it('has the designed group delay of 23 samples at 16 kHz (1.44 ms, within the 1.5 ms budget)', () => {
    expect(UPSAMPLER_DELAY_SAMPLES_16K).toBe(23);
    for (const centreHz of [300, 1000]) {
      const delayMs = measureGroupDelayMs(upsampler, centreHz);
      expect(delayMs).toBeCloseTo(UPSAMPLER_DELAY_MS, 2);
      expect(delayMs).toBeLessThanOrEqual(1.5);
    }
  });

  it('passes an impulse through the copy branch at the designed delay', () => {
    const impulse = new Int16Array(40);
    impulse[0] = 16384;
    const response = whole(impulse);
    const peak = response.reduce((best, value, i) => (Math.abs(value) > Math.abs(response[best]!) ? i : best), 0);
    expect(peak).toBe(UPSAMPLER_DELAY_SAMPLES_16K);
    expect(response[peak]).toBe(16384);
  });
});

describe('Upsampler2x streaming', () => {
  it('writes exactly two samples per input sample', () => {
    const output = new Int16Array(2 * FRAME_SAMPLES_8K + 4);
    expect(new Upsampler2x().process(twoTones.subarray(0, FRAME_SAMPLES_8K), output, 2)).toBe(2 * FRAME_SAMPLES_8K);
    expect(new Upsampler2x().process(new Int16Array(0), output)).toBe(0);
  });

  it('gives bit-identical output for 20 ms, random (1..2000) and 1-sample chunks', () => {
    const reference = whole(twoTones);
    expect(reference.length).toBe(2 * twoTones.length);
    const random = seededRandom(0x5eed);
    const chunkings: Record<string, () => number> = {
      '20 ms': () => FRAME_SAMPLES_8K,
      'random 1..2000': () => 1 + Math.floor(random() * 2000),
      '1 sample': () => 1,
    };
    for (const [name, nextChunkLength] of Object.entries(chunkings)) {
      const chunked = processInChunks(new Upsampler2x(), twoTones, 2, nextChunkLength);
      expect(chunked.length, name).toBe(reference.length);
      expect(maxAbsDifference(chunked, reference), name).toBe(0);
    }
  });

  it('honours inputLength and outputOffset', () => {
    const reference = whole(twoTones.subarray(0, 100));
    const output = new Int16Array(210).fill(99);
    expect(new Upsampler2x().process(twoTones, output, 10, 100)).toBe(200);
    expect(output.subarray(10)).toEqual(reference);
    expect(output.subarray(0, 10).every((v) => v === 99)).toBe(true);
    expect(() => new Upsampler2x().process(twoTones, output, 11, 100)).toThrow(RangeError);
  });

  it('after reset() behaves exactly like a fresh instance', () => {
    const used = new Upsampler2x();
    processInChunks(used, twoTones.subarray(0, 1234), 2, () => 160);
    used.reset();
    expect(processInChunks(used, twoTones, 2, () => 160)).toEqual(whole(twoTones));
  });

  it('clamps full-scale overshoot instead of wrapping', () => {
    const square = Int16Array.from({ length: 800 }, (_, n) => (Math.floor(n / 20) % 2 ? -32768 : 32767));
    const out = whole(square);
    // Even outputs come from the dot product; Gibbs overshoot must saturate there...
    expect(out.some((v, i) => i % 2 === 0 && v === 32767)).toBe(true);
    expect(out.some((v, i) => i % 2 === 0 && v === -32768)).toBe(true);
    // ...and a wrapped value would sit ~65000 away from its full-scale neighbour.
    for (let i = 1; i < out.length; i++) expect(Math.abs(out[i]! - out[i - 1]!)).toBeLessThan(50000);
  });
});
