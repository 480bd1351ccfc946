import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { firKernelsModuleSource } from '../../../scripts/build-fir-kernels.js';
import { Downsampler3x } from '../../../src/audio/downsampler-3x.js';
import { MAX_BLOCK_SAMPLES, Upsample2xKernel } from '../../../src/audio/fir-kernels.js';
import { Upsampler2x } from '../../../src/audio/upsampler-2x.js';
import { referenceDownsample3x, referenceUpsample2x } from '../../support/reference-resamplers.js';
import { generateTwoToneSignal, processInChunks, seededRandom } from '../../support/tone-analysis.js';

/** Tones, then full-scale noise the filters overshoot and clip on. */
function signal(sampleRateHz: number, seed: number): Int16Array {
  const random = seededRandom(seed);
  const tones = generateTwoToneSignal(sampleRateHz, 1);
  const out = new Int16Array(tones.length * 2);
  out.set(tones);
  for (let i = tones.length; i < out.length; i++) out[i] = Math.floor(random() * 65536) - 32768;
  return out;
}

describe('the WebAssembly FIR kernels', () => {
  it('are the committed assembly of fir-kernels.wat', async () => {
    const committed = readFileSync(new URL('../../../src/audio/fir-kernels-wasm.ts', import.meta.url), 'utf8');
    expect(committed, 'run: npx tsx scripts/build-fir-kernels.ts').toBe(await firKernelsModuleSource());
  });

  it('equal the plain one-output-at-a-time loops bit for bit, in any chunking (blocks of the kernel crossed too)', () => {
    for (const seed of [1, 2]) {
      const random = seededRandom(seed);
      const chunk = (): number => 1 + Math.floor(random() * 2.5 * MAX_BLOCK_SAMPLES);
      const caller = signal(8000, seed);
      expect(processInChunks(new Upsampler2x(), caller, 2, chunk)).toEqual(referenceUpsample2x(caller));
      const model = signal(24000, seed + 10);
      expect(processInChunks(new Downsampler3x(), model, 1 / 3, chunk)).toEqual(referenceDownsample3x(model));
      expect(processInChunks(new Downsampler3x(), model.subarray(0, 999), 1 / 3, () => 1)).toEqual(referenceDownsample3x(model.subarray(0, 999)));
    }
  });

  it('round as Math.round does (halves toward +Infinity) and clamp to int16', () => {
    // One tap of 0.75: even output i is 0.75 * (x[i] + x[i - 1]), so pair sums of 4k + 2 land exactly on halves.
    const kernel = new Upsample2xKernel(Float64Array.of(0.75));
    const input = Int16Array.of(2, 0, -2, 0, 6, 0, -6, 0, 32767, 32767, -32768, -32768, 3, -4);
    const output = new Int16Array(2 * input.length);
    kernel.process(new Int16Array(kernel.historyLength), input, input.length, output, 0);
    const expected = Int16Array.from(input, (x, i) => Math.min(32767, Math.max(-32768, Math.round(0.75 * (x + (input[i - 1] ?? 0))))));
    expect(output.filter((_, i) => i % 2 === 0)).toEqual(expected);
    expect(Array.from(expected.slice(0, 10))).toEqual([2, 2, -1, -1, 5, 5, -4, -4, 24575, 32767]); // 1.5 -> 2, -1.5 -> -1, 49150.5 clamped
  });
});
