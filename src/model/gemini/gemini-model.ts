import type { AgentModelSettings, ConversationHooks, ConversationSettings, RealtimeConversation, RealtimeModel } from '../realtime-model.js';
import { geminiBackend, type GeminiAuth } from './gemini-auth.js';
import { liveFailureAdvice, type LiveFailureContext } from './live-errors.js';
import { liveApiVersion, liveCapabilities, liveFeatureConfig, liveFeatureProblems } from './live-model-features.js';
import type { GeminiBackend } from './live-models.js';
import { GeminiLiveSession } from './live-session.js';
import { LiveConversation } from './live-conversation.js';
import { turnSettingsProblems } from './turn-settings.js';
import { geminiVoiceProblems } from './voices.js';

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
 * What Gemini Live would refuse of an agent: a voice it does not have, a feature or tool behaviour its model does not
 * offer (the capability table, live-models.ts), a feature whose API version clashes with GEMINI_API_VERSION, a turn
 * setting its model is reported to ignore (turn-settings.ts).
 */
export function geminiSettingsProblems(backend: GeminiBackend, configuredApiVersion: string | undefined): (settings: AgentModelSettings) => string[] {
  return (settings) => [...geminiVoiceProblems(settings.voice), ...liveFeatureProblems(settings, backend, configuredApiVersion), ...turnSettingsProblems(settings)];
}

/** Gemini Live as the calls' realtime model: each conversation is a LiveConversation over SDK sessions. */
export function createGeminiModel(options: GeminiModelOptions): RealtimeModel {
  const backend = geminiBackend(options.auth);
  return {
    provider: backend,
    defaultModel: options.model,
    // PCM16 LE mono, 16 kHz in and always 24 kHz out (https://ai.google.dev/gemini-api/docs/live-guide, "Audio formats").
    audio: { input: { encoding: 'pcm16le', sampleRateHz: 16_000 }, output: { encoding: 'pcm16le', sampleRateHz: 24_000 } },
    capabilities: (model) => liveCapabilities(model, backend),
    settingsProblems: geminiSettingsProblems(backend, options.apiVersion),
    conversation(settingsSource: () => Promise<ConversationSettings>, hooks: ConversationHooks): RealtimeConversation {
      let settings: Promise<ConversationSettings> | undefined;
      let failureContext: LiveFailureContext | undefined;
      return new LiveConversation({
        log: hooks.log,
        onEvent: hooks.onEvent,
        explainClose: (code, reason) => (failureContext === undefined ? undefined : liveFailureAdvice(code, reason, failureContext)),
        ...(hooks.onResumptionHandle === undefined ? {} : { onResumptionHandle: hooks.onResumptionHandle }),
        ...(hooks.resumptionHandle === undefined ? {} : { initialResumptionHandle: hooks.resumptionHandle }),
        open: async (resumptionHandle, onSessionEvent) => {
          settings ??= settingsSource();
          const { model, voice, instructions, tools, turns, inputTranscription, features } = await settings;
          const apiVersion = liveApiVersion(model, backend, features, options.apiVersion);
          failureContext = { model, backend, apiVersion };
          return GeminiLiveSession.open({
            auth: options.auth,
            model,
            apiVersion,
            voice,
            instructions,
            tools,
            ...(turns === undefined ? {} : { turns }),
            ...(inputTranscription === undefined ? {} : { inputTranscription }),
            features: liveFeatureConfig(model, backend, features),
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
