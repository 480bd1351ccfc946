import { Modality, type FunctionDeclaration, type LiveConnectConfig } from '@google/genai';

export interface AgentVoiceSettings {
  voice: string;
  instructions: string;
  /** The call's tools (each with an explicit `behavior`); none → no `tools` in the setup. */
  toolDeclarations?: FunctionDeclaration[];
  /** A handle from `sessionResumptionUpdate` to continue an earlier session; absent for a new one. */
  resumptionHandle?: string;
}

/**
 * Context compression keeps an audio-only session alive past 15 minutes. A modest trigger also keeps
 * response latency from creeping up as the context grows (gemini-live.md §9.9); the target keeps half.
 */
export const COMPRESSION_TRIGGER_TOKENS = 25_600;
export const COMPRESSION_TARGET_TOKENS = 12_800;

/** The Live setup for one phone call: audio out, the configured voice and instructions, transcripts both ways. */
export function buildLiveConnectConfig(settings: AgentVoiceSettings): LiveConnectConfig {
  return {
    responseModalities: [Modality.AUDIO],
    speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: settings.voice } } },
    systemInstruction: settings.instructions,
    inputAudioTranscription: {},
    outputAudioTranscription: {},
    sessionResumption: settings.resumptionHandle === undefined ? {} : { handle: settings.resumptionHandle },
    contextWindowCompression: {
      triggerTokens: String(COMPRESSION_TRIGGER_TOKENS),
      slidingWindow: { targetTokens: String(COMPRESSION_TARGET_TOKENS) },
    },
    ...(settings.toolDeclarations === undefined || settings.toolDeclarations.length === 0
      ? {}
      : { tools: [{ functionDeclarations: settings.toolDeclarations }] }),
  };
}
