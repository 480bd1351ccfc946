import { BASIC_CAPABILITIES, type ConversationHooks, type ConversationSettings, type ModelCapabilities, type RealtimeConversation, type RealtimeModel } from '../realtime-model.js';
import type { GeminiAuth } from './gemini-auth.js';
import { GeminiLiveSession } from './live-session.js';
import { LiveConversation } from './live-conversation.js';
import { geminiSettingsProblems } from './voices.js';

export interface GeminiModelOptions {
  /** The Gemini Developer API with a key, or Vertex AI (gemini-auth.ts). */
  auth: GeminiAuth;
  /** Default Live model when the agent names none. */
  model: string;
  apiVersion: string | undefined;
  setupTimeoutMs: number;
  /** Another Live endpoint (a proxy, the tests' fake); default GOOGLE_GEMINI_BASE_URL, else Google's. */
  baseUrl?: string;
}

/**
 * What this adapter lets a call use on every Live model: resumption (handover, failover), non-blocking tools
 * ("all function calls are non-blocking by default", Google Cloud's "Asynchronous function calling with Gemini
 * Live API") with their results' scheduling (`FunctionResponse.scheduling` in the SDK's types), and usage per
 * response. The features set per model (activity signals, voice detection settings, affective dialog, proactive
 * audio, thinking, transcription languages) stay off until the adapter carries them with a per-model table.
 */
const GEMINI_CAPABILITIES: ModelCapabilities = Object.freeze({
  ...BASIC_CAPABILITIES,
  sessionResumption: true,
  nonBlockingTools: true,
  toolResultScheduling: true,
  usageReporting: 'perResponse',
});

/** Gemini Live as the calls' realtime model: each conversation is a LiveConversation over SDK sessions. */
export function createGeminiModel(options: GeminiModelOptions): RealtimeModel {
  return {
    provider: options.auth.kind === 'vertex' ? 'vertex-ai' : 'gemini-api',
    defaultModel: options.model,
    // PCM16 LE mono, 16 kHz in and always 24 kHz out (https://ai.google.dev/gemini-api/docs/live-guide, "Audio formats").
    audio: { input: { encoding: 'pcm16le', sampleRateHz: 16_000 }, output: { encoding: 'pcm16le', sampleRateHz: 24_000 } },
    capabilities: () => GEMINI_CAPABILITIES,
    settingsProblems: geminiSettingsProblems,
    conversation(settingsSource: () => Promise<ConversationSettings>, hooks: ConversationHooks): RealtimeConversation {
      let settings: Promise<ConversationSettings> | undefined;
      return new LiveConversation({
        log: hooks.log,
        onEvent: hooks.onEvent,
        ...(hooks.onResumptionHandle === undefined ? {} : { onResumptionHandle: hooks.onResumptionHandle }),
        ...(hooks.resumptionHandle === undefined ? {} : { initialResumptionHandle: hooks.resumptionHandle }),
        open: async (resumptionHandle, onSessionEvent) => {
          settings ??= settingsSource();
          const { model, voice, instructions, tools } = await settings;
          return GeminiLiveSession.open({
            auth: options.auth,
            model,
            apiVersion: options.apiVersion,
            voice,
            instructions,
            tools,
            setupTimeoutMs: options.setupTimeoutMs,
            ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
            ...(resumptionHandle === undefined ? {} : { resumptionHandle }),
            log: hooks.log,
            onEvent: onSessionEvent,
          });
        },
      });
    },
  };
}
