/**
 * Item 2: audio quality by the procedure of docs/audio-dsp.md §8.1 (test/support/tone-analysis.ts):
 * -6 dBFS tones of 1 s fed in 20 ms chunks to a fresh streaming resampler, least-squares fits over
 * the central 80 % of the output. The same figures are measured for the baselines.
 */
import { Downsampler3x } from '../src/audio/downsampler-3x.js';
import { MODEL_INPUT_SAMPLE_RATE_HZ, MODEL_OUTPUT_SAMPLE_RATE_HZ, TWILIO_SAMPLE_RATE_HZ } from '../src/audio/format.js';
import { Upsampler2x } from '../src/audio/upsampler-2x.js';
import {
  CHUNK_MS,
  frequencySweep,
  generateTone,
  generateTwoToneSignal,
  measureAliasRejectionDb,
  measureGainDb,
  measureGroupDelayMs,
  measureImageRejectionDb,
  measureThdPlusNDb,
  processInChunks,
  seededRandom,
  type ResamplerUnderTest,
} from '../test/support/tone-analysis.js';
import { LibsamplerateResampler, LinearUpsampler2x, PickingDownsampler3x } from './baselines.js';
import { round } from './stats.js';

export interface QualityOptions {
  /** Step of the image and alias sweeps, Hz (100 in §8.1). */
  sweepStepHz: number;
}

export const FULL_QUALITY_OPTIONS: QualityOptions = { sweepStepHz: 100 };
export const SMOKE_QUALITY_OPTIONS: QualityOptions = { sweepStepHz: 1100 };

/** §8.1 step 6. */
const PASSBAND_HZ = [100, 300, 1000, 2000, 3000, 3400];
const THD_HZ = [300, 1000, 3000];

export interface ChunkInvariance {
  /** Largest |chunked - whole| over the samples both produced, in LSB. */
  maxDiff20ms: number;
  maxDiffRandom: number;
  /** Chunked and whole-buffer processing produced the same number of samples. */
  sameLength: boolean;
}

export interface DirectionQuality {
  /** Gain in dB at 100, 300, 1000, 2000, 3000, 3400 Hz. */
  passbandGainsDb: number[];
  /** Largest |gain| over those frequencies. */
  passbandFlatnessDb: number;
  /** x2: worst image rejection for inputs 100-3400 Hz; /3: worst alias rejection for inputs 4650-11950 Hz. */
  rejectionMinDb: number;
  /** x2: rejection at 1 kHz and 3 kHz; /3: at 5 kHz and 9 kHz. */
  rejectionAtDb: Record<string, number>;
  /** THD+N at -6 dBFS, dB, at 300, 1000, 3000 Hz. */
  thdPlusNDb: Record<string, number>;
  /** Group delay measured from the phases of tones around 1 kHz, output sample m taken as time m / output rate. */
  groupDelayMs: number;
  /** Output the resampler still holds back after 1 s of 20 ms chunks (libsamplerate's look-ahead). */
  holdBackMs: number;
  /** groupDelayMs + holdBackMs: how much later a sound comes out than it went in. */
  addedDelayMs: number;
  chunkInvariance: ChunkInvariance;
}

export interface CandidateQuality {
  callerToModel: DirectionQuality;
  modelToCaller: DirectionQuality;
}

export interface AudioQualityResult {
  method: string;
  ours: CandidateQuality;
  naive: CandidateQuality;
  libsamplerate: CandidateQuality;
}

/** Rejection above this is reported as this: the int16 output is then (nearly) silent at that frequency. */
export const REJECTION_CAP_DB = 120;
const capped = (db: number): number => (Number.isFinite(db) ? Math.min(db, REJECTION_CAP_DB) : REJECTION_CAP_DB);

/**
 * measureGroupDelayMs is unambiguous over one period of its 100 Hz spacing (10 ms) and returns
 * 0..10 ms; a resampler with (numerically) zero or tiny negative delay would read as ~10 ms, so
 * map the result into (-5, 5] ms.
 */
function groupDelayMs(device: ResamplerUnderTest, centreHz: number): number {
  const delay = measureGroupDelayMs(device, centreHz);
  return delay > 5 ? delay - 10 : delay;
}

function chunkInvariance(device: ResamplerUnderTest): ChunkInvariance {
  const input = generateTwoToneSignal(device.inputRateHz, 2);
  const ratio = device.outputRateHz / device.inputRateHz;
  const whole = processInChunks(device.create(), input, ratio, () => input.length);
  const frameLength = (device.inputRateHz * CHUNK_MS) / 1000;
  const framed = processInChunks(device.create(), input, ratio, () => frameLength);
  const random = seededRandom(7);
  const randomChunks = processInChunks(device.create(), input, ratio, () => 1 + Math.floor(random() * 2000));
  return {
    maxDiff20ms: maxDiffOverCommon(whole, framed),
    maxDiffRandom: maxDiffOverCommon(whole, randomChunks),
    sameLength: whole.length === framed.length && whole.length === randomChunks.length,
  };
}

function maxDiffOverCommon(a: Int16Array, b: Int16Array): number {
  let max = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Output samples missing after 1 s of 20 ms chunks, as time at the output rate. */
function holdBackMs(device: ResamplerUnderTest): number {
  const input = generateTone(1000, device.inputRateHz);
  const frameLength = (device.inputRateHz * CHUNK_MS) / 1000;
  const ratio = device.outputRateHz / device.inputRateHz;
  const produced = processInChunks(device.create(), input, ratio, () => frameLength).length;
  const expected = Math.floor(input.length * ratio);
  return (Math.max(0, expected - produced) / device.outputRateHz) * 1000;
}

function measureDirection(device: ResamplerUnderTest, direction: 'up' | 'down', options: QualityOptions): DirectionQuality {
  const gains = PASSBAND_HZ.map((f) => measureGainDb(device, f));
  let rejectionMinDb: number;
  let rejectionAtDb: Record<string, number>;
  if (direction === 'up') {
    const sweep = [...new Set([...frequencySweep(100, 3400, options.sweepStepHz), 1000, 3000, 3400])];
    rejectionMinDb = Math.min(...sweep.map((f) => capped(measureImageRejectionDb(device, f))));
    rejectionAtDb = { '1000': round(capped(measureImageRejectionDb(device, 1000)), 1), '3000': round(capped(measureImageRejectionDb(device, 3000)), 1) };
  } else {
    const sweep = [...new Set([...frequencySweep(4650, 11950, options.sweepStepHz), 5000, 9000])];
    rejectionMinDb = Math.min(...sweep.map((f) => capped(measureAliasRejectionDb(device, f))));
    rejectionAtDb = { '5000': round(capped(measureAliasRejectionDb(device, 5000)), 1), '9000': round(capped(measureAliasRejectionDb(device, 9000)), 1) };
  }
  const thd: Record<string, number> = {};
  for (const f of THD_HZ) thd[String(f)] = round(measureThdPlusNDb(device, f), 1);
  const delay = groupDelayMs(device, 1000);
  const holdBack = holdBackMs(device);
  return {
    passbandGainsDb: gains.map((g) => round(g, 3)),
    passbandFlatnessDb: round(Math.max(...gains.map(Math.abs)), 3),
    rejectionMinDb: round(rejectionMinDb, 1),
    rejectionAtDb,
    thdPlusNDb: thd,
    groupDelayMs: round(delay, 2),
    holdBackMs: round(holdBack, 2),
    addedDelayMs: round(delay + holdBack, 2),
    chunkInvariance: chunkInvariance(device),
  };
}

function measureCandidate(up: ResamplerUnderTest, down: ResamplerUnderTest, options: QualityOptions): CandidateQuality {
  return { callerToModel: measureDirection(up, 'up', options), modelToCaller: measureDirection(down, 'down', options) };
}

const UP_RATES = { inputRateHz: TWILIO_SAMPLE_RATE_HZ, outputRateHz: MODEL_INPUT_SAMPLE_RATE_HZ };
const DOWN_RATES = { inputRateHz: MODEL_OUTPUT_SAMPLE_RATE_HZ, outputRateHz: TWILIO_SAMPLE_RATE_HZ };

export async function measureAudioQuality(options: QualityOptions = FULL_QUALITY_OPTIONS): Promise<AudioQualityResult> {
  const ours = measureCandidate({ ...UP_RATES, create: () => new Upsampler2x() }, { ...DOWN_RATES, create: () => new Downsampler3x() }, options);
  const naive = measureCandidate(
    { ...UP_RATES, create: () => new LinearUpsampler2x() },
    { ...DOWN_RATES, create: () => new PickingDownsampler3x() },
    options,
  );
  // One converter per direction, re-initialised for every measurement (create() here must be synchronous).
  const libUp = await LibsamplerateResampler.create(UP_RATES.inputRateHz, UP_RATES.outputRateHz);
  const libDown = await LibsamplerateResampler.create(DOWN_RATES.inputRateHz, DOWN_RATES.outputRateHz);
  const libsamplerate = measureCandidate({ ...UP_RATES, create: () => libUp.reset() }, { ...DOWN_RATES, create: () => libDown.reset() }, options);
  libUp.destroy();
  libDown.destroy();
  return {
    method: `docs/audio-dsp.md §8.1: -6 dBFS tones, 1 s in 20 ms chunks, fit over the central 80 %; sweeps in ${options.sweepStepHz} Hz steps`,
    ours,
    naive,
    libsamplerate,
  };
}
