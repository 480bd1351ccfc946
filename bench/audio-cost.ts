/**
 * Item 1: CPU cost of one 20 ms frame through each audio path, docs/audio-dsp.md §8.1 step 9: 3000
 * distinct frames (60 s of audio) per run, warm-up runs, then the median (and minimum) of the timed
 * runs in µs per frame. The full pipelines are what a call really runs, base64 text in and out (the wire edges
 * decode and encode base64; the audio pipelines in between work on bytes):
 *
 *   caller -> model: base64 mu-law (216 chars) -> bytes -> mu-law decode -> x2 -> PCM16LE -> base64
 *   model -> caller: base64 PCM16LE 24 kHz (1280 chars) -> bytes -> /3 -> mu-law encode -> base64
 *
 * The baselines reuse exactly the same base64 and mu-law plumbing, so the difference between rows
 * is the resampler. Resampler-only rows (Int16Array in, Int16Array out) are measured too.
 */
import { CallerToModelAudio } from '../src/audio/caller-to-model.js';
import { Downsampler3x } from '../src/audio/downsampler-3x.js';
import { MODEL_OUTPUT_SAMPLE_RATE_HZ, TWILIO_SAMPLE_RATE_HZ } from '../src/audio/format.js';
import { ModelToCallerAudio } from '../src/audio/model-to-caller.js';
import { mulawDecode, mulawEncode } from '../src/audio/mulaw.js';
import { Upsampler2x } from '../src/audio/upsampler-2x.js';
import { generateTones, seededRandom, type StreamingResampler } from '../test/support/tone-analysis.js';
import { LibsamplerateResampler, LinearUpsampler2x, PickingDownsampler3x } from './baselines.js';
import { median, round } from './stats.js';

export interface CostOptions {
  frames: number;
  warmupRuns: number;
  timedRuns: number;
}

export const FULL_COST_OPTIONS: CostOptions = { frames: 3000, warmupRuns: 2, timedRuns: 7 };
export const SMOKE_COST_OPTIONS: CostOptions = { frames: 100, warmupRuns: 1, timedRuns: 2 };

export interface CostFigure {
  /** Median of the timed runs, µs per 20 ms frame. */
  medianUs: number;
  minUs: number;
}

export interface CandidateCost {
  callerToModel: CostFigure;
  modelToCaller: CostFigure;
  resamplerUp: CostFigure;
  resamplerDown: CostFigure;
}

export interface AudioCostResult {
  method: string;
  frames: number;
  warmupRuns: number;
  timedRuns: number;
  ours: CandidateCost;
  naive: CandidateCost;
  libsamplerate: CandidateCost;
  /** libsamplerate-js cost divided by ours, full pipelines. */
  libsamplerateOverOurs: { callerToModel: number; modelToCaller: number };
  /** Cores other processes kept busy while this was measured (set by bench/run.ts). */
  backgroundCores?: number;
}

const CALLER_FRAME_SAMPLES = (TWILIO_SAMPLE_RATE_HZ * 20) / 1000;
const MODEL_FRAME_SAMPLES = (MODEL_OUTPUT_SAMPLE_RATE_HZ * 20) / 1000;

/** 440 Hz + 1330 Hz at 0.3 FS each plus white noise at about -30 dBFS, as in §6. */
function testSignal(sampleRateHz: number, samples: number, seed: number): Int16Array {
  const tones = generateTones(
    [
      { frequencyHz: 440, amplitude: 0.3 * 32768 },
      { frequencyHz: 1330, amplitude: 0.3 * 32768 },
    ],
    sampleRateHz,
    samples,
  );
  const random = seededRandom(seed);
  for (let i = 0; i < tones.length; i++) {
    tones[i] = Math.max(-32768, Math.min(32767, tones[i]! + Math.round((random() - 0.5) * 2000)));
  }
  return tones;
}

interface Workload {
  callerFramesBase64: string[];
  modelFramesBase64: string[];
  callerFramesPcm: Int16Array[];
  modelFramesPcm: Int16Array[];
}

function makeWorkload(frames: number): Workload {
  const caller = testSignal(TWILIO_SAMPLE_RATE_HZ, frames * CALLER_FRAME_SAMPLES, 1);
  const model = testSignal(MODEL_OUTPUT_SAMPLE_RATE_HZ, frames * MODEL_FRAME_SAMPLES, 2);
  const callerMulaw = new Uint8Array(caller.length);
  mulawEncode(caller, callerMulaw);
  const modelBytes = Buffer.from(model.buffer, model.byteOffset, model.byteLength); // little-endian host
  const workload: Workload = { callerFramesBase64: [], modelFramesBase64: [], callerFramesPcm: [], modelFramesPcm: [] };
  for (let f = 0; f < frames; f++) {
    workload.callerFramesBase64.push(Buffer.from(callerMulaw.subarray(f * CALLER_FRAME_SAMPLES, (f + 1) * CALLER_FRAME_SAMPLES)).toString('base64'));
    workload.modelFramesBase64.push(modelBytes.subarray(f * MODEL_FRAME_SAMPLES * 2, (f + 1) * MODEL_FRAME_SAMPLES * 2).toString('base64'));
    workload.callerFramesPcm.push(caller.slice(f * CALLER_FRAME_SAMPLES, (f + 1) * CALLER_FRAME_SAMPLES));
    workload.modelFramesPcm.push(model.slice(f * MODEL_FRAME_SAMPLES, (f + 1) * MODEL_FRAME_SAMPLES));
  }
  return workload;
}

/** A full caller -> model pipeline around any x2 resampler, with the same plumbing as CallerToModelAudio. */
class GenericCallerPipeline {
  private readonly decoded = new Int16Array(CALLER_FRAME_SAMPLES);
  private readonly pcmMemory = new ArrayBuffer(2 * CALLER_FRAME_SAMPLES * 2);
  private readonly pcm = new Int16Array(this.pcmMemory);
  private readonly pcmBytes = Buffer.from(this.pcmMemory);

  constructor(private readonly resampler: StreamingResampler) {}

  convert(mulawBase64: string): string {
    const mulaw = Buffer.from(mulawBase64, 'base64'); // as the Twilio edge decodes `media.payload`
    const length = mulaw.length;
    mulawDecode(mulaw, this.decoded, 0, length);
    const samples = this.resampler.process(this.decoded, this.pcm, 0, length);
    return this.pcmBytes.toString('base64', 0, samples * 2);
  }
}

/** A full model -> caller pipeline around any /3 resampler, with the same plumbing as ModelToCallerAudio plus the framing base64. */
class GenericModelPipeline {
  private readonly pcmMemory = new ArrayBuffer(MODEL_FRAME_SAMPLES * 2);
  private readonly pcmBytes = Buffer.from(this.pcmMemory);
  private readonly pcm = new Int16Array(this.pcmMemory);
  private readonly decimated = new Int16Array(MODEL_FRAME_SAMPLES);
  private readonly mulaw = Buffer.alloc(MODEL_FRAME_SAMPLES);

  constructor(private readonly resampler: StreamingResampler) {}

  convert(pcmBase64: string): string {
    const bytes = Buffer.from(pcmBase64, 'base64'); // as the model edge decodes its audio
    this.pcmBytes.set(bytes);
    const samples = this.resampler.process(this.pcm, this.decimated, 0, bytes.length >> 1);
    mulawEncode(this.decimated, this.mulaw, 0, samples);
    return this.mulaw.toString('base64', 0, samples);
  }
}

/** What a call does per caller frame: the Twilio edge decodes `media.payload`, the model edge base64s the PCM. */
function oursCallerToModel(): (mulawBase64: string) => string {
  const pipeline = new CallerToModelAudio();
  return (mulawBase64) => pipeline.convert(Buffer.from(mulawBase64, 'base64')).toString('base64');
}

/** What a call does per agent frame: the model edge decodes its audio, then the 160 mu-law bytes are base64ed for `media`. */
function oursModelToCaller(): (pcmBase64: string) => string {
  const pipeline = new ModelToCallerAudio();
  return (pcmBase64) => {
    const mulaw = pipeline.convert(Buffer.from(pcmBase64, 'base64'));
    return Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.length).toString('base64');
  };
}

let sink = 0;

/** Median and minimum µs per item of `run(items)` over the timed runs. */
function time<T>(items: readonly T[], options: CostOptions, step: (item: T) => number): CostFigure {
  const runs: number[] = [];
  for (let r = 0; r < options.warmupRuns + options.timedRuns; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < items.length; i++) sink += step(items[i]!);
    const elapsedUs = Number(process.hrtime.bigint() - started) / 1000;
    if (r >= options.warmupRuns) runs.push(elapsedUs / items.length);
  }
  return { medianUs: round(median(runs), 2), minUs: round(Math.min(...runs), 2) };
}

function resamplerStep(resampler: StreamingResampler, outputLength: number): (frame: Int16Array) => number {
  const output = new Int16Array(outputLength);
  return (frame) => resampler.process(frame, output, 0, frame.length);
}

export async function measureAudioCost(options: CostOptions = FULL_COST_OPTIONS): Promise<AudioCostResult> {
  const work = makeWorkload(options.frames);
  const libUp = await LibsamplerateResampler.create(TWILIO_SAMPLE_RATE_HZ, 16000);
  const libDown = await LibsamplerateResampler.create(MODEL_OUTPUT_SAMPLE_RATE_HZ, TWILIO_SAMPLE_RATE_HZ);
  const libUpResampler = await LibsamplerateResampler.create(TWILIO_SAMPLE_RATE_HZ, 16000);
  const libDownResampler = await LibsamplerateResampler.create(MODEL_OUTPUT_SAMPLE_RATE_HZ, TWILIO_SAMPLE_RATE_HZ);

  const measure = (
    callerToModel: (b64: string) => string,
    modelToCaller: (b64: string) => string,
    up: StreamingResampler,
    down: StreamingResampler,
  ): CandidateCost => ({
    callerToModel: time(work.callerFramesBase64, options, (frame) => callerToModel(frame).length),
    modelToCaller: time(work.modelFramesBase64, options, (frame) => modelToCaller(frame).length),
    resamplerUp: time(work.callerFramesPcm, options, resamplerStep(up, 2 * CALLER_FRAME_SAMPLES + 16)),
    resamplerDown: time(work.modelFramesPcm, options, resamplerStep(down, MODEL_FRAME_SAMPLES)),
  });

  const ours = measure(oursCallerToModel(), oursModelToCaller(), new Upsampler2x(), new Downsampler3x());
  const naiveIn = new GenericCallerPipeline(new LinearUpsampler2x());
  const naiveOut = new GenericModelPipeline(new PickingDownsampler3x());
  const naive = measure((b64) => naiveIn.convert(b64), (b64) => naiveOut.convert(b64), new LinearUpsampler2x(), new PickingDownsampler3x());
  const libIn = new GenericCallerPipeline(libUp);
  const libOut = new GenericModelPipeline(libDown);
  const libsamplerate = measure((b64) => libIn.convert(b64), (b64) => libOut.convert(b64), libUpResampler, libDownResampler);
  for (const src of [libUp, libDown, libUpResampler, libDownResampler]) src.destroy();
  if (sink === 0) throw new Error('benchmark produced no output'); // keeps the work observable

  return {
    method: `${options.frames} distinct 20 ms frames per run, ${options.warmupRuns} warm-up + ${options.timedRuns} timed runs, median (min) µs per frame`,
    frames: options.frames,
    warmupRuns: options.warmupRuns,
    timedRuns: options.timedRuns,
    ours,
    naive,
    libsamplerate,
    libsamplerateOverOurs: {
      callerToModel: round(libsamplerate.callerToModel.medianUs / ours.callerToModel.medianUs, 1),
      modelToCaller: round(libsamplerate.modelToCaller.medianUs / ours.modelToCaller.medianUs, 1),
    },
  };
}
