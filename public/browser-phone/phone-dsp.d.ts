// Types of phone-dsp.js for the TypeScript tests that import it (the page itself uses the .js, no build step).
export const PHONE_SAMPLE_RATE_HZ: number;
export const FRAME_SAMPLES: number;
export const PREBUFFER_SAMPLES: number;
export const PHONE_BAND: { cutoffHz: number; halfWidthMs: number; beta: number };
export function mulawEncodeSample(sample: number): number;
export function mulawDecodeSample(code: number): number;
export function floatToInt16(value: number): number;
export class SincResampler {
  constructor(inputRateHz: number, outputRateHz: number, band?: { cutoffHz: number; halfWidthMs: number; beta: number });
  readonly halfWidth: number;
  process(input: Float32Array): Float32Array;
}
export class PlayoutQueue {
  constructor(prebufferSamples?: number);
  readonly queuedSamples: number;
  readonly stats: { agentSamplesPlayed: number; underruns: number; peak: number };
  pushAudio(samples: Float32Array): void;
  pushMark(name: string): string[];
  clear(): { discardedSamples: number; marks: string[] };
  read(count: number): { samples: Float32Array; marks: string[] };
}
