import { CallerToModelAudio } from './caller-to-model.js';
import { MULAW_BYTES_PER_MS, PCM16_BYTES_PER_SAMPLE } from './format.js';
import { ModelToCallerAudio } from './model-to-caller.js';

/**
 * The audio formats a realtime model may take and give, and the per-call converters between them and the phone's
 * 8 kHz mu-law. Each format is one the call can convert without a general resampler: 16 kHz PCM16 in (×2 from
 * 8 kHz) and 24 kHz PCM16 out (÷3 to 8 kHz), as Gemini Live speaks, or the phone's own mu-law both ways.
 */
export type ModelInputAudio = { readonly encoding: 'pcm16le'; readonly sampleRateHz: 16_000 } | { readonly encoding: 'mulaw'; readonly sampleRateHz: 8_000 };
export type ModelOutputAudio = { readonly encoding: 'pcm16le'; readonly sampleRateHz: 24_000 } | { readonly encoding: 'mulaw'; readonly sampleRateHz: 8_000 };

/** Caller audio (8 kHz mu-law) to the model's input format; the result is valid until the next call. */
export interface CallerAudioConverter {
  convert(mulaw: Uint8Array): Uint8Array;
}

/** Model audio to the phone's mu-law; the result is valid until the next call. `reset` drops filter state. */
export interface AgentAudioConverter {
  convert(audio: Uint8Array): Uint8Array;
  reset(): void;
}

/** Mu-law both ways needs no conversion: the bytes pass through as they are. */
const PASS_THROUGH: AgentAudioConverter = { convert: (bytes) => bytes, reset: () => {} };

export function callerAudioConverter(format: ModelInputAudio): CallerAudioConverter {
  return format.encoding === 'mulaw' ? PASS_THROUGH : new CallerToModelAudio();
}

export function agentAudioConverter(format: ModelOutputAudio): AgentAudioConverter {
  return format.encoding === 'mulaw' ? PASS_THROUGH : new ModelToCallerAudio();
}

/** How many bytes one millisecond of audio takes in this format. */
export function bytesPerMs(format: ModelInputAudio | ModelOutputAudio): number {
  return format.encoding === 'mulaw' ? MULAW_BYTES_PER_MS : (format.sampleRateHz / 1000) * PCM16_BYTES_PER_SAMPLE;
}
