import { describe, expect, it } from 'vitest';
import { mulawDecodeSample, mulawEncodeSample } from '../../../src/audio/mulaw.js';
import * as dsp from '../../../public/browser-phone/phone-dsp.js';

/** Amplitude of `frequency` in `signal` (a single-bin DFT), ignoring the first `skip` samples (filter settling). */
function toneAmplitude(signal: Float32Array, frequency: number, rate: number, skip: number): number {
  let re = 0;
  let im = 0;
  const n = signal.length - skip;
  for (let i = skip; i < signal.length; i++) {
    const angle = (2 * Math.PI * frequency * i) / rate;
    re += signal[i]! * Math.cos(angle);
    im += signal[i]! * Math.sin(angle);
  }
  return (2 * Math.hypot(re, im)) / n;
}

function tone(frequency: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate));
}

/** Runs a whole signal through a resampler in uneven chunks (as render quanta and frames arrive). */
function resampleInChunks(input: Float32Array, from: number, to: number, chunk: number): Float32Array {
  const resampler = new dsp.SincResampler(from, to);
  const parts: Float32Array[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(resampler.process(input.subarray(i, i + chunk)));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

describe('browser phone DSP (public/browser-phone/phone-dsp.js)', () => {
  it('encodes and decodes mu-law exactly as the server does, for every input', () => {
    for (let sample = -32768; sample <= 32767; sample++) {
      if (dsp.mulawEncodeSample(sample) !== mulawEncodeSample(sample)) throw new Error(`encode differs at ${sample}`);
    }
    for (let code = 0; code < 256; code++) expect(dsp.mulawDecodeSample(code)).toBe(mulawDecodeSample(code));
    expect(dsp.mulawEncodeSample(dsp.floatToInt16(0))).toBe(0xff);
    expect(dsp.floatToInt16(1.5)).toBe(32767);
    expect(dsp.floatToInt16(-1.5)).toBe(-32768);
  });

  it('captures 48 kHz and 44.1 kHz to 8 kHz: the phone band flat, what would alias removed, any chunking', () => {
    for (const rate of [48_000, 44_100]) {
      for (const [frequency, low, high] of [[300, -0.05, 0.05], [1_000, -0.05, 0.05], [3_400, -0.6, 0.05]] as const) {
        const out = resampleInChunks(tone(frequency, rate, 0.5), rate, 8_000, 128);
        expect(out.length).toBeGreaterThan(3_900);
        const gainDb = 20 * Math.log10(toneAmplitude(out, frequency, 8_000, 200) / 0.5);
        expect(gainDb, `${frequency} Hz at ${rate}`).toBeGreaterThan(low);
        expect(gainDb, `${frequency} Hz at ${rate}`).toBeLessThan(high);
      }
      // 5 and 7 kHz would fold to 3 and 1 kHz: they must be gone.
      for (const [frequency, alias] of [[5_000, 3_000], [7_000, 1_000], [11_000, 3_000]] as const) {
        const out = resampleInChunks(tone(frequency, rate, 0.5), rate, 8_000, 128);
        const residualDb = 20 * Math.log10(toneAmplitude(out, alias, 8_000, 200) / 0.5 + 1e-12);
        expect(residualDb, `${frequency} Hz at ${rate}`).toBeLessThan(-55);
      }
    }
  });

  it('gives the same samples however the input is chunked', () => {
    const input = tone(1_234, 48_000, 0.2);
    const whole = resampleInChunks(input, 48_000, 8_000, input.length);
    const small = resampleInChunks(input, 48_000, 8_000, 37);
    expect(small.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i++) expect(Math.abs(small[i]! - whole[i]!)).toBeLessThan(1e-6);
  });

  it('plays 8 kHz back at 48 kHz without images', () => {
    const out = resampleInChunks(tone(1_000, 8_000, 0.5), 8_000, 48_000, 8);
    expect(20 * Math.log10(toneAmplitude(out, 1_000, 48_000, 1_200) / 0.5)).toBeGreaterThan(-0.05);
    // The first image of 1 kHz sampled at 8 kHz is at 7 kHz.
    expect(20 * Math.log10(toneAmplitude(out, 7_000, 48_000, 1_200) / 0.5)).toBeLessThan(-55);
  });

  describe('PlayoutQueue (Twilio mark and clear semantics)', () => {
    const audio = (samples: number, value = 0.25) => new Float32Array(samples).fill(value);

    it('echoes a mark once the audio before it has played, and at once when nothing is queued', () => {
      const queue = new dsp.PlayoutQueue(480);
      expect(queue.pushMark('empty')).toEqual(['empty']);
      queue.pushAudio(audio(1_600));
      expect(queue.pushMark('t1:m1')).toEqual([]);
      // A mark closes the batch: playback starts without waiting for the prebuffer.
      expect(queue.read(1_000).marks).toEqual([]);
      const { samples, marks } = queue.read(1_000);
      expect(marks).toEqual(['t1:m1']);
      expect(samples[599]).toBeCloseTo(0.25);
      expect(samples[600]).toBe(0); // ran dry: silence
      expect(queue.stats.agentSamplesPlayed).toBe(1_600);
    });

    it('waits for the prebuffer before starting, so a trickle does not stutter', () => {
      const queue = new dsp.PlayoutQueue(480);
      queue.pushAudio(audio(160));
      expect(queue.read(8).samples[0]).toBe(0);
      queue.pushAudio(audio(320));
      expect(queue.read(8).samples[0]).toBeCloseTo(0.25);
    });

    it('on clear drops what is queued and releases every pending mark', () => {
      const queue = new dsp.PlayoutQueue(480);
      queue.pushAudio(audio(1_600));
      queue.pushMark('t2:m1');
      queue.pushAudio(audio(1_600));
      queue.pushMark('t2:m2');
      queue.read(800);
      const cleared = queue.clear();
      expect(cleared).toEqual({ discardedSamples: 2_400, marks: ['t2:m1', 't2:m2'] });
      expect(queue.read(160).samples.every((value) => value === 0)).toBe(true);
      // The next turn's marks count from a clean slate.
      queue.pushAudio(audio(480));
      queue.pushMark('t3:m3');
      expect(queue.read(480).marks).toEqual(['t3:m3']);
    });
  });
});
