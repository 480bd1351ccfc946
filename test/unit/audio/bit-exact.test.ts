import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CallerToModelAudio } from '../../../src/audio/caller-to-model.js';
import { Downsampler3x } from '../../../src/audio/downsampler-3x.js';
import { MODEL_OUTPUT_SAMPLE_RATE_HZ, TWILIO_SAMPLE_RATE_HZ } from '../../../src/audio/format.js';
import { ModelToCallerAudio } from '../../../src/audio/model-to-caller.js';
import { Upsampler2x } from '../../../src/audio/upsampler-2x.js';
import { generateTwoToneSignal, processInChunks, seededRandom } from '../../support/tone-analysis.js';

/**
 * The resamplers' output, pinned bit for bit. The digests were taken from the plain JavaScript resamplers (four
 * outputs per pass, each sum in tap order); any faster implementation must give exactly the same samples,
 * clipping included.
 */
const EXPECTED = {
  upsampler: '53bd983b20a9e0e7399e81ca1b5ad29bdd69a1aa75f058c49dc02dec5a13c589',
  downsampler: '8ac2a7f615b9647723a6fe5416aecbed6d62e79d2e45e2e50fe4b49189967ee4',
  callerToModel: '513ed3476da75ff2df40f587fa8a303928c2c3dadeef0e65f121e7bebd743f30',
  modelToCaller: '96a36722a2099b4aae27089d79f25495cfd44ec8815e27974fdc52fd80f64b34',
};

/** Two tones, full-scale noise (the filters overshoot and clip), a full-scale square wave and silence. */
function stressSignal(sampleRateHz: number, seed: number): Int16Array {
  const random = seededRandom(seed);
  const tones = generateTwoToneSignal(sampleRateHz, 1);
  const noise = Int16Array.from({ length: sampleRateHz }, () => Math.floor(random() * 65536) - 32768);
  const square = Int16Array.from({ length: sampleRateHz / 5 }, (_, n) => (Math.floor(n / 7) % 2 ? -32768 : 32767));
  const signal = new Int16Array(tones.length + noise.length + square.length + sampleRateHz / 10);
  signal.set(tones);
  signal.set(noise, tones.length);
  signal.set(square, tones.length + noise.length);
  return signal;
}

const digest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (samples: Int16Array): Uint8Array => new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);

/** Random chunk sizes from one sample up to 600 ms of audio, so block boundaries inside a chunk are crossed too. */
function randomChunks(seed: number, max: number): () => number {
  const random = seededRandom(seed);
  return () => 1 + Math.floor(random() * max);
}

describe('resampler output is bit-exact with the JavaScript resamplers', () => {
  it('×2 (8 → 16 kHz)', () => {
    const output = processInChunks(new Upsampler2x(), stressSignal(TWILIO_SAMPLE_RATE_HZ, 1), 2, randomChunks(2, 4800));
    expect(digest(bytesOf(output))).toBe(EXPECTED.upsampler);
  });

  it('÷3 (24 → 8 kHz)', () => {
    const output = processInChunks(new Downsampler3x(), stressSignal(MODEL_OUTPUT_SAMPLE_RATE_HZ, 3), 1 / 3, randomChunks(4, 14400));
    expect(digest(bytesOf(output))).toBe(EXPECTED.downsampler);
  });

  it('the call pipelines, 20 ms frames and odd-sized model chunks', () => {
    const caller = new Uint8Array(stressSignal(TWILIO_SAMPLE_RATE_HZ, 5).buffer).subarray(0, 3 * TWILIO_SAMPLE_RATE_HZ);
    const toModel = new CallerToModelAudio();
    const sent = createHash('sha256');
    for (let offset = 0; offset < caller.length; offset += 160) sent.update(toModel.convert(caller.subarray(offset, offset + 160)));
    expect(sent.digest('hex')).toBe(EXPECTED.callerToModel);

    const model = bytesOf(stressSignal(MODEL_OUTPUT_SAMPLE_RATE_HZ, 6));
    const toCaller = new ModelToCallerAudio();
    const heard = createHash('sha256');
    const chunk = randomChunks(7, 9601);
    for (let offset = 0; offset < model.length; ) {
      const end = Math.min(model.length, offset + chunk());
      heard.update(toCaller.convert(model.subarray(offset, end)));
      offset = end;
    }
    expect(heard.digest('hex')).toBe(EXPECTED.modelToCaller);
  });
});
