import { FunctionResponseScheduling, MediaModality, TurnCompleteReason, type FunctionResponse, type LiveServerMessage, type ModalityTokenCount, type Session, type UsageMetadata } from '@google/genai';
import type { ConversationEvent, ModelLog, TokenCounts, ToolAnswer, ToolResultScheduling, UsageReport } from '../realtime-model.js';
import { createGenAI, explainSetupFailure, geminiBackend, type CreateGenAIOptions, type GeminiAuth } from './gemini-auth.js';
import { liveFailureAdvice, parseLiveClose } from './live-errors.js';
import { buildLiveConnectConfig, type LiveSetup } from './live-setup.js';
import { installGuardedSocket, type GuardedSdkSocket } from './sdk-websocket.js';

/**
 * What one Live connection tells its conversation: the call's events it carries, plus the connection's own
 * (goAway, resumption handles, its close), which live-conversation.ts handles.
 */
export type SessionEvent =
  | Exclude<ConversationEvent, { type: 'sessionSwitched' | 'lost' }>
  | { type: 'goAway'; timeLeftMs: number | undefined }
  | { type: 'resumptionUpdate'; handle: string | undefined; resumable: boolean }
  | { type: 'closed'; code: number; reason: string; byUs: boolean };

export interface GeminiSessionOptions extends LiveSetup {
  /** Gemini Developer API key, or Vertex AI project + location with Application Default Credentials. */
  auth: GeminiAuth;
  model: string;
  apiVersion: string | undefined;
  setupTimeoutMs: number;
  /** Another Live endpoint (a proxy, the tests' fake); default: GOOGLE_GEMINI_BASE_URL / GOOGLE_VERTEX_BASE_URL, else Google's. */
  baseUrl?: string;
  /** Vertex AI only: google-auth-library options (default: Application Default Credentials). */
  googleAuthOptions?: CreateGenAIOptions['googleAuthOptions'];
  log: ModelLog;
  onEvent: (event: SessionEvent) => void;
}

export const MODEL_INPUT_MIME_TYPE = 'audio/pcm;rate=16000';
const MODEL_OUTPUT_MIME_PREFIX = 'audio/pcm';

/** A Live server message's fields (the SDK's LiveServerMessage without its convenience getters). */
export type ServerMessage = Omit<LiveServerMessage, 'text' | 'data'>;

export class ModelSetupError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
    /** How the service closed the connection during setup, when it did. */
    readonly close?: { code: number; reason: string },
    /** What to change, in a sentence (live-errors.ts), when the close says. */
    readonly advice?: string,
    /** The credentials were the problem (no token, or refused), not the setup. */
    readonly credentials = false,
  ) {
    super(advice === undefined ? message : `${message.replace(/\.+$/, '')}. To fix: ${advice}`);
    this.name = 'ModelSetupError';
  }
}

/**
 * Whether a failed open was the credentials' fault. Vertex AI: google-auth-library produced no token (no socket was
 * made), or the upgrade was refused 401/403. The key path authenticates after the upgrade: a wrong key closes 1007
 * "API key not valid", none at all 1008 "unregistered callers" (the wordings the service uses).
 */
function credentialsFailed(auth: GeminiAuth, message: string, socketCreated: boolean, close: { code: number; reason: string } | undefined): boolean {
  if (auth.kind === 'vertex') return !socketCreated || /Unexpected server response: 40[13]\b/.test(message);
  return close !== undefined && /API key not valid|unregistered callers/i.test(close.reason);
}

/**
 * One Gemini Live session (one WebSocket) through the real @google/genai SDK, with the SDK's sharp
 * edges guarded: a setup timeout that leaves no socket behind, no exception escaping a callback, no
 * send after close, and exactly one `closed` event.
 */
export class GeminiLiveSession {
  private closedByUs = false;
  private closedReported = false;
  private messagesDroppedAfterClose = 0;

  private constructor(
    private readonly session: Session,
    private readonly socket: GuardedSdkSocket,
    private readonly log: ModelLog,
  ) {}

  static async open(options: GeminiSessionOptions): Promise<GeminiLiveSession> {
    const { log, onEvent } = options;
    const ai = createGenAI(options.auth, {
      ...(options.apiVersion === undefined ? {} : { apiVersion: options.apiVersion }),
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
      ...(options.googleAuthOptions === undefined ? {} : { googleAuthOptions: options.googleAuthOptions }),
    });
    const installed = installGuardedSocket(ai, (problem) => log.error({ problem }, 'Gemini Live sent an invalid frame'));

    // The SDK replays messages that arrived during setup just before connect() resolves, when the
    // caller does not hold the session yet; those wait and are delivered right after open() returns.
    let wrapper: GeminiLiveSession | undefined;
    let setupFinished = false;
    const early: ServerMessage[] = [];
    const deliver = (event: SessionEvent): void => {
      try {
        onEvent(event);
      } catch (error) {
        log.error({ err: error, event: event.type }, 'call failed to handle a model event');
      }
    };
    const receive = (message: ServerMessage): void => {
      try {
        for (const event of toSessionEvents(message)) deliver(event);
      } catch (error) {
        log.error({ err: error }, 'failed to read a Gemini Live message');
      }
    };

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        installed.socket()?.terminate();
        reject(new ModelSetupError(`Gemini Live setup did not complete within ${options.setupTimeoutMs} ms`, true));
      }, options.setupTimeoutMs);
    });

    const onServerMessage = (message: ServerMessage): void => {
      if (wrapper === undefined || early.length > 0) early.push(message);
      else receive(message);
    };
    const connecting = ai.live.connect({
      model: options.model,
      config: buildLiveConnectConfig(options),
      callbacks: {
        onmessage: onServerMessage,
        onerror: (event: { message?: string }) => log.warn({ error: event.message }, 'Gemini Live socket error'),
        onclose: (event: { code?: number; reason?: string }) => {
          if (!setupFinished || wrapper === undefined) return; // connect() rejects for us during setup
          wrapper.reportClosed(event.code ?? 1006, event.reason ?? '', deliver);
        },
      },
    });
    // connect() may reject after we stopped waiting (timeout); that is expected, not unhandled.
    connecting.catch(() => undefined);

    try {
      const session = await Promise.race([connecting, timedOut]);
      const socket = installed.socket();
      if (socket === undefined) throw new ModelSetupError('Gemini Live socket was not created', false);
      const opened = new GeminiLiveSession(session, socket, log);
      wrapper = opened;
      setupFinished = true;
      // From here the socket hands over the message it has parsed (and checked) itself, so each frame is parsed
      // once. What the SDK would do to it on the Gemini Developer API is JSON.parse alone; on Vertex AI it renames
      // fields of usageMetadata and voiceActivity, so those few messages still take the SDK's way.
      const vertex = options.auth.kind === 'vertex';
      socket.deliverParsed((message) => {
        if (vertex && ('usageMetadata' in message || 'voiceActivity' in message)) return false;
        onServerMessage(message as ServerMessage);
        return true;
      });
      setImmediate(() => {
        while (early.length > 0) receive(early.shift() as ServerMessage);
        if (!socket.isOpen) opened.reportClosed(1006, 'closed during setup', deliver);
      });
      return opened;
    } catch (error) {
      installed.socket()?.terminate();
      if (error instanceof ModelSetupError) throw error;
      const message = redactKey((error as Error).message);
      const close = parseLiveClose(message);
      const advice = close === undefined ? undefined : liveFailureAdvice(close.code, close.reason, { model: options.model, backend: geminiBackend(options.auth), apiVersion: options.apiVersion });
      const socketCreated = installed.socket() !== undefined;
      throw new ModelSetupError(explainSetupFailure(options.auth, message, socketCreated), false, close, advice, credentialsFailed(options.auth, message, socketCreated, close));
    } finally {
      clearTimeout(timer);
    }
  }

  get isOpen(): boolean {
    return !this.closedReported && this.socket.isOpen;
  }

  /**
   * Streams one chunk of caller audio (16 kHz PCM16 LE). Returns false if the session is gone. Written to the socket
   * as the SDK's sendRealtimeInput writes it (realtimeAudioMessage), without its per-message converters: caller audio
   * is 50 messages a second per call.
   */
  sendAudio(pcm16k: Uint8Array): boolean {
    if (!this.isOpen) return this.dropAfterClose();
    this.socket.sendText(realtimeAudioMessage(pcm16k));
    return true;
  }

  /** The caller started or stopped talking, as the call heard it (setup with automatic activity detection disabled). */
  sendActivity(mark: 'start' | 'end'): boolean {
    if (!this.isOpen) return this.dropAfterClose();
    this.session.sendRealtimeInput(mark === 'start' ? { activityStart: {} } : { activityEnd: {} });
    return true;
  }

  /** Realtime text: how a call nudges the model (e.g. to greet), without interrupting ordered history. */
  sendText(text: string): boolean {
    if (!this.isOpen) return this.dropAfterClose();
    this.session.sendRealtimeInput({ text });
    return true;
  }

  sendToolAnswers(answers: readonly ToolAnswer[]): boolean {
    if (!this.isOpen) return this.dropAfterClose();
    this.session.sendToolResponse({ functionResponses: answers.map(toFunctionResponse) });
    return true;
  }

  /** Ends the session (idempotent). The `closed` event follows with `byUs: true`. */
  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    this.socket.close(1000, 'call ended');
  }

  private reportClosed(code: number, reason: string, deliver: (event: SessionEvent) => void): void {
    if (this.closedReported) return;
    this.closedReported = true;
    if (this.messagesDroppedAfterClose > 0) this.log.debug({ dropped: this.messagesDroppedAfterClose }, 'sends dropped after close');
    deliver({ type: 'closed', code, reason, byUs: this.closedByUs });
  }

  private dropAfterClose(): false {
    this.messagesDroppedAfterClose++;
    return false;
  }
}

const REALTIME_AUDIO_PREFIX = Buffer.from('{"realtimeInput":{"audio":{"data":"', 'latin1');
const REALTIME_AUDIO_SUFFIX = Buffer.from(`","mimeType":"${MODEL_INPUT_MIME_TYPE}"}}}`, 'latin1');

/**
 * `realtimeInput.audio` exactly as the SDK's `sendRealtimeInput({ audio: { data, mimeType } })` serialises it, for
 * the Gemini Developer API and Vertex AI alike (both pass the blob through unchanged), as the UTF-8 bytes of the text
 * frame: built as bytes, the socket masks and writes it in one piece rather than encoding a string first. The base64
 * is made here, at the wire edge. test/unit/model/gemini-messages.test.ts holds it to the SDK's own output.
 */
export function realtimeAudioMessage(pcm16k: Uint8Array): Buffer {
  const data = Buffer.from(pcm16k.buffer, pcm16k.byteOffset, pcm16k.byteLength).toString('base64');
  const message = Buffer.allocUnsafe(REALTIME_AUDIO_PREFIX.length + data.length + REALTIME_AUDIO_SUFFIX.length);
  REALTIME_AUDIO_PREFIX.copy(message, 0);
  message.write(data, REALTIME_AUDIO_PREFIX.length, 'latin1');
  REALTIME_AUDIO_SUFFIX.copy(message, REALTIME_AUDIO_PREFIX.length + data.length);
  return message;
}

/** Splits one server message into events. A single `serverContent` may carry several fields at once. */
export function toSessionEvents(message: ServerMessage): SessionEvent[] {
  const events: SessionEvent[] = [];
  const content = message.serverContent;
  if (content !== undefined) {
    if (content.inputTranscription?.text) events.push({ type: 'inputTranscript', text: content.inputTranscription.text });
    if (content.interrupted === true) events.push({ type: 'interrupted' });
    for (const part of content.modelTurn?.parts ?? []) {
      const inline = part.inlineData;
      if (inline?.data && (inline.mimeType ?? '').startsWith(MODEL_OUTPUT_MIME_PREFIX)) {
        events.push({ type: 'audio', audio: Buffer.from(inline.data, 'base64') });
      }
    }
    if (content.outputTranscription?.text) events.push({ type: 'outputTranscript', text: content.outputTranscription.text });
    if (content.generationComplete === true) events.push({ type: 'generationComplete' });
    if (content.turnComplete === true) events.push(turnComplete(content.turnCompleteReason));
  }
  const functionCalls = message.toolCall?.functionCalls;
  if (functionCalls !== undefined && functionCalls.length > 0) {
    events.push({
      type: 'toolCall',
      calls: functionCalls.map((call) => ({ id: call.id ?? '', name: call.name ?? '', args: call.args ?? {} })),
    });
  }
  const cancelled = message.toolCallCancellation?.ids;
  if (cancelled !== undefined && cancelled.length > 0) events.push({ type: 'toolCallCancellation', ids: cancelled });
  if (message.goAway !== undefined) events.push({ type: 'goAway', timeLeftMs: parseDurationMs(message.goAway.timeLeft) });
  if (message.sessionResumptionUpdate !== undefined) {
    const update = message.sessionResumptionUpdate;
    events.push({ type: 'resumptionUpdate', handle: update.newHandle || undefined, resumable: update.resumable === true });
  }
  if (message.usageMetadata !== undefined) events.push({ type: 'usage', usage: toUsageReport(message.usageMetadata) });
  return events;
}

/**
 * A turn's end, with the service's reason for logs; `RESPONSE_REJECTED` (the model declined, no audio) is flagged:
 * runs of them are a reported failure the call recovers from (google-gemini/gemini-live-api-examples#40).
 */
function turnComplete(reason: TurnCompleteReason | undefined): Extract<SessionEvent, { type: 'turnComplete' }> {
  if (reason === undefined) return { type: 'turnComplete' };
  return reason === TurnCompleteReason.RESPONSE_REJECTED ? { type: 'turnComplete', detail: reason, rejected: true } : { type: 'turnComplete', detail: reason };
}

/**
 * Gemini's usage in our terms. The Live API sends one per model response (beside `turnComplete` in recordings,
 * "periodically" per its best-practices page), its prompt counting the whole context read for that response;
 * Vertex's `candidatesTokenCount` arrives renamed to `responseTokenCount` by the SDK (gemini-live.md §3.7).
 */
export function toUsageReport(usage: UsageMetadata): UsageReport {
  const optional = (key: keyof UsageReport, value: number | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    prompt: { ...byModality(usage.promptTokensDetails), ...(usage.promptTokenCount === undefined ? {} : { total: usage.promptTokenCount }) },
    response: { ...byModality(usage.responseTokensDetails), ...(usage.responseTokenCount === undefined ? {} : { total: usage.responseTokenCount }) },
    ...optional('cachedTokens', usage.cachedContentTokenCount),
    ...optional('thinkingTokens', usage.thoughtsTokenCount),
    ...optional('toolUsePromptTokens', usage.toolUsePromptTokenCount),
    ...optional('totalTokens', usage.totalTokenCount),
  };
}

const MODALITY_KEYS: Partial<Record<MediaModality, keyof TokenCounts>> = {
  [MediaModality.TEXT]: 'text',
  [MediaModality.AUDIO]: 'audio',
  [MediaModality.IMAGE]: 'image',
  [MediaModality.VIDEO]: 'video',
};

function byModality(details: readonly ModalityTokenCount[] | undefined): TokenCounts {
  const counts: Record<string, number> = {};
  for (const { modality, tokenCount } of details ?? []) {
    const key = modality === undefined ? undefined : MODALITY_KEYS[modality];
    if (key !== undefined && tokenCount !== undefined) counts[key] = (counts[key] ?? 0) + tokenCount;
  }
  return counts;
}

const SCHEDULING: Record<ToolResultScheduling, FunctionResponseScheduling> = {
  interrupt: FunctionResponseScheduling.INTERRUPT,
  whenIdle: FunctionResponseScheduling.WHEN_IDLE,
  silent: FunctionResponseScheduling.SILENT,
};

/** One tool answer as Gemini takes it: `response` holds `output` or `error` (FunctionResponse in the SDK's types). */
export function toFunctionResponse(answer: ToolAnswer): FunctionResponse {
  return {
    id: answer.id,
    name: answer.name,
    response: { ...answer.response },
    ...(answer.scheduling === undefined ? {} : { scheduling: SCHEDULING[answer.scheduling] }),
  };
}

/** Protobuf JSON durations look like "50s" or "1.5s". */
export function parseDurationMs(duration: string | undefined): number | undefined {
  if (duration === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(duration);
  return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) * 1000);
}

/**
 * The SDK puts the API key in the WebSocket URL; Vertex AI sends an OAuth access token in a header, and
 * google-auth-library errors may quote token responses. Never let any of them reach a log through an error text.
 */
export function redactKey(text: string): string {
  return text
    .replace(/([?&](?:key|access_token|assertion)=)[^&\s]+/g, '$1[redacted]')
    .replace(/(Bearer\s+)[^\s,;"']+/gi, '$1[redacted]')
    .replace(/("(?:access_token|id_token|refresh_token)"\s*:\s*")[^"]*"/g, '$1[redacted]"');
}
