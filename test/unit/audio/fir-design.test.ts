import { describe, expect, it } from 'vitest';
import { besselI0, firMagnitude, kaiserHalfBand, kaiserLowpass, kaiserWindow } from '../../../src/audio/fir-design.js';
import { frequencySweep } from '../../support/tone-analysis.js';

const db = (magnitude: number): number => 20 * Math.log10(magnitude);
/** Extremes of |H| in dB over [fromHz, toHz], on a 5 Hz grid. */
function responseRangeDb(taps: Float64Array, fromHz: number, toHz: number, rateHz: number): { min: number; max: number } {
  const levels = frequencySweep(fromHz, toHz, 5).map((f) => db(firMagnitude(taps, f / rateHz)));
  return { min: Math.min(...levels), max: Math.max(...levels) };
}

describe('Kaiser FIR design', () => {
  it('computes I0 and the Kaiser window', () => {
    expect(besselI0(0)).toBe(1);
    expect(besselI0(1)).toBeCloseTo(1.2660658777520082, 14);
    expect(besselI0(5.4)).toBeCloseTo(39.008787785625856, 12);
    const window = kaiserWindow(9, 5.4);
    expect(window[4]).toBe(1);
    expect(window[0]).toBeCloseTo(1 / besselI0(5.4), 15);
    expect([...window]).toEqual([...window].reverse());
  });

  it('designs a unity-DC, linear-phase low-pass', () => {
    const taps = kaiserLowpass(72, 1 / 6, 5.5);
    expect(taps.reduce((a, b) => a + b)).toBeCloseTo(1, 14);
    expect([...taps]).toEqual([...taps].reverse());
    // Analytic figures of docs/audio-dsp.md §4.3 (N = 72, beta 5.5): +-0.012 dB to 3.4 kHz, 57.9 dB from 4.6 kHz.
    const passband = responseRangeDb(taps, 0, 3400, 24000);
    expect(Math.max(-passband.min, passband.max)).toBeLessThan(0.015);
    expect(-responseRangeDb(taps, 4600, 12000, 24000).max).toBeGreaterThan(57.8);
    expect(db(firMagnitude(taps, 4000 / 24000))).toBeCloseTo(-6.02, 2);
  });

  it('designs a half-band with exact zeros, a 0.5 centre tap and balanced polyphase branches', () => {
    const taps = kaiserHalfBand(47, 5.4);
    const centre = 23;
    expect(taps[centre]).toBe(0.5);
    expect(taps.filter((_, n) => n !== centre && (n - centre) % 2 === 0).every((v) => v === 0)).toBe(true);
    expect(taps.filter((_, n) => (n - centre) % 2 !== 0).reduce((a, b) => a + b)).toBeCloseTo(0.5, 15);
    expect(taps[0]).not.toBe(0);
    // Analytic figures of docs/audio-dsp.md §4.2 (N = 47, beta 5.4): +-0.013 dB to 3.4 kHz, 56.5 dB from 4.6 kHz.
    const passband = responseRangeDb(taps, 0, 3400, 16000);
    expect(Math.max(-passband.min, passband.max)).toBeLessThan(0.015);
    expect(-responseRangeDb(taps, 4600, 8000, 16000).max).toBeGreaterThan(56.4);
    expect(() => kaiserHalfBand(45, 5.4)).toThrow(RangeError);
  });
});
