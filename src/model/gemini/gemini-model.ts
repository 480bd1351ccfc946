import { BASIC_CAPABILITIES, type AgentModelSettings, type ConversationHooks, type ConversationSettings, type ModelCapabilities, type RealtimeConversation, type RealtimeModel } from '../realtime-model.js';
import type { GeminiAuth } from './gemini-auth.js';
import { GeminiLiveSession } from './live-session.js';
import { LiveConversation } from './live-conversation.js';
import { turnSettingsProblems } from './turn-settings.js';
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
 * response. Turn taking as the Live API documents it for its models (https://ai.google.dev/gemini-api/docs/live-guide,
 * voice activity detection; `RealtimeInputConfig` in the SDK's types): activity signals with automatic detection
 * disabled, voice detection settings, activity handling and turn coverage; a model reported to ignore one of them
 * is refused at start-up (turn-settings.ts). Transcription languages and custom vocabulary are fields of the SDK's
 * `AudioTranscriptionConfig` it sends on both backends (since @google/genai 2.13 and 2.14; before, it refused
 * `languageCodes` on the Gemini API); no model page says a Live model refuses them. Affective dialog, proactive audio
 * and thinking stay off until the adapter carries them with a per-model table.
 */
const GEMINI_CAPABILITIES: ModelCapabilities = Object.freeze({
  ...BASIC_CAPABILITIES,
  activitySignals: true,
  voiceDetectionSettings: true,
  interruptionControl: true,
  turnCoverage: true,
  sessionResumption: true,
  nonBlockingTools: true,
  toolResultScheduling: true,
  transcriptionLanguages: true,
  transcriptionVocabulary: true,
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
    settingsProblems: (settings: AgentModelSettings) => [...geminiSettingsProblems(settings), ...turnSettingsProblems(settings)],
    conversation(settingsSource: () => Promise<ConversationSettings>, hooks: ConversationHooks): RealtimeConversation {
      let settings: Promise<ConversationSettings> | undefined;
      return new LiveConversation({
        log: hooks.log,
        onEvent: hooks.onEvent,
        ...(hooks.onResumptionHandle === undefined ? {} : { onResumptionHandle: hooks.onResumptionHandle }),
        ...(hooks.resumptionHandle === undefined ? {} : { initialResumptionHandle: hooks.resumptionHandle }),
        open: async (resumptionHandle, onSessionEvent) => {
          settings ??= settingsSource();
          const { model, voice, instructions, tools, turns, inputTranscription } = await settings;
          return GeminiLiveSession.open({
            auth: options.auth,
            model,
            apiVersion: options.apiVersion,
            voice,
            instructions,
            tools,
            ...(turns === undefined ? {} : { turns }),
            ...(inputTranscription === undefined ? {} : { inputTranscription }),
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
