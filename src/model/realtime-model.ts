import type { Logger } from '../observability/logger.js';
import type { FunctionDeclaration } from '@google/genai';
import type { ConversationEvent } from './live-conversation.js';
import type { ModelFunctionResponse } from './gemini-live-session.js';

export type { ConversationEvent } from './live-conversation.js';
export type { ModelFunctionCall, ModelFunctionResponse } from './gemini-live-session.js';

/** What one call's conversation is set up with: the agent, as the model sees it. */
export interface ConversationSettings {
  model: string;
  voice: string;
  instructions: string;
  /** Fresh objects per session (an SDK may rewrite them in place). */
  toolDeclarations: () => FunctionDeclaration[];
}

/**
 * One call's conversation with a realtime speech model, across however many connections it takes. Caller
 * audio goes in as bytes (16 kHz PCM16 LE), text and tool answers too; typed events come out through the
 * `onEvent` given when it was made. Implementations never throw from the send methods.
 */
export interface RealtimeConversation {
  /** Connects; rejects when the model cannot be reached or refuses the setup (the call then ends). */
  start(): Promise<void>;
  sendAudio(pcm16k: Uint8Array): void;
  sendText(text: string): void;
  sendToolResponses(responses: ModelFunctionResponse[]): void;
  /** The model went quiet when it should answer: continue in a fresh connection. */
  resumeAfterStall(): void;
  close(): void;
  readonly stats: { readonly sessions: number; readonly handovers: number; readonly reconnects: number };
}

export interface ConversationHooks {
  log: Logger;
  onEvent: (event: ConversationEvent) => void;
  /** Every resumable handle the model hands out, e.g. to store it where another instance can resume. */
  onResumptionHandle?: (handle: string) => void;
  /** Continue a conversation an earlier connection (or another instance) had: its latest resumption handle. */
  resumptionHandle?: string;
}

/** A realtime speech model the call lifecycle can talk to. Gemini Live implements it (gemini-model.ts). */
export interface RealtimeModel {
  /** For logs and the call summary, e.g. `gemini-developer-api` or `vertex-ai`. */
  readonly provider: string;
  readonly defaultModel: string;
  /**
   * A conversation, not yet connected. `settings` is read once, when `start()` connects: an agent's
   * instructions may be written per call, asynchronously.
   */
  conversation(settings: () => Promise<ConversationSettings>, hooks: ConversationHooks): RealtimeConversation;
}
