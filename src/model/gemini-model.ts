import type { GeminiAuth } from './gemini-auth.js';
import { GeminiLiveSession, type GeminiSessionOptions } from './gemini-live-session.js';
import { LiveConversation } from './live-conversation.js';
import type { ConversationHooks, ConversationSettings, RealtimeConversation, RealtimeModel } from './realtime-model.js';

/** Opens one Live connection; GeminiLiveSession.open unless a test or local mode supplies another. */
export type OpenGeminiSession = (options: GeminiSessionOptions) => Promise<GeminiLiveSession>;

export interface GeminiModelOptions {
  apiKey: string;
  /** Vertex AI or an API key (gemini-auth.ts); when set it replaces `apiKey`. */
  auth?: GeminiAuth;
  /** Default Live model when the agent names none. */
  model: string;
  apiVersion: string | undefined;
  setupTimeoutMs: number;
  /** Another Live endpoint (local mode's built-in server); default GOOGLE_GEMINI_BASE_URL, else Google's. */
  baseUrl?: string;
  openSession?: OpenGeminiSession;
}

/** Gemini Live as the calls' realtime model: each conversation is a LiveConversation over SDK sessions. */
export function createGeminiModel(options: GeminiModelOptions): RealtimeModel {
  const open = options.openSession ?? GeminiLiveSession.open;
  return {
    provider: options.auth?.kind === 'vertex' ? 'vertex-ai' : 'gemini-developer-api',
    defaultModel: options.model,
    conversation(settingsSource: () => Promise<ConversationSettings>, hooks: ConversationHooks): RealtimeConversation {
      let settings: Promise<ConversationSettings> | undefined;
      return new LiveConversation({
        log: hooks.log,
        onEvent: hooks.onEvent,
        ...(hooks.onResumptionHandle === undefined ? {} : { onResumptionHandle: hooks.onResumptionHandle }),
        ...(hooks.resumptionHandle === undefined ? {} : { initialResumptionHandle: hooks.resumptionHandle }),
        open: async (resumptionHandle, onSessionEvent) => {
          settings ??= settingsSource();
          const { model, voice, instructions, toolDeclarations } = await settings;
          return open({
            auth: options.auth ?? { kind: 'api-key', apiKey: options.apiKey },
            model,
            apiVersion: options.apiVersion,
            voice,
            instructions,
            toolDeclarations: toolDeclarations(),
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
