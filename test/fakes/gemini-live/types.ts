/**
 * Public types of the fake Gemini Live server (re-exported from `server.ts`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FunctionResponse, LiveClientSetup } from '@google/genai';
import type { ReceivedAudio } from './pcm.js';
import type { ClientMessage, CloseSpec, WireServerMessage } from './protocol.js';
import type { VadConfig } from './vad.js';

export type { CloseSpec, ClientMessage, WireServerMessage, ReceivedAudio, VadConfig };

export interface FakeToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** One scripted model turn. */
export interface FakeReply {
  /** Spoken text; streamed as `outputTranscription` fragments (when the setup asked for them). */
  text: string;
  /** 24 kHz PCM16 mono reply audio. Default: `synthesizeSpeech(text)` (60 ms per character). */
  audio?: Int16Array;
  /**
   * Calls emitted as one `toolCall` before any audio; the reply audio follows once every call has
   * a `toolResponse` (as a BLOCKING call behaves).
   */
  toolCalls?: FakeToolCall[];
  /**
   * What to say once every call of `toolCalls` is answered, made from the answers (as a real model reads its
   * tool results before it speaks). Replaces `text` and `audio` of this reply.
   */
  afterToolResponses?: (responses: FunctionResponse[]) => { text: string; audio?: Int16Array };
  /**
   * What the model "heard" in the caller turn this reply answers; sent as `inputTranscription`.
   * Default: the `transcribe` option's result, else `"(caller speech N.N s)"`.
   */
  heard?: string;
}

export type CallerTurnSource = 'audio' | 'text' | 'clientContent' | 'activity';

export interface ReplyContext {
  /** Conversation-wide caller turn index (continues across resumed connections). */
  turnIndex: number;
  source: CallerTurnSource;
  /** `realtimeInput.text` / clientContent text, or what `transcribe` returned for audio. */
  heardText?: string;
  session: FakeSession;
}

export type ReplyScript = FakeReply[] | ((ctx: ReplyContext) => FakeReply | undefined);

export interface FakeGeminiLiveOptions {
  /** Reply to each caller turn; an array is indexed by `turnIndex`. No reply → the model stays silent. */
  replies?: ReplyScript;
  /**
   * Speak first right after `setupComplete` (not on resumed connections). The real model never does
   * this unprompted; prefer prompting it with `realtimeInput.text` like a real bridge must.
   */
  greeting?: FakeReply;
  /** Turn caller audio into "heard" text (e.g. by measuring a test tone); feeds `ReplyContext.heardText`. */
  transcribe?: (ctx: { audio16k: Int16Array; turnIndex: number; session: FakeSession }) => string | undefined;
  /** If set, any other key is rejected after the upgrade (close 1007; missing key → 1008). */
  apiKey?: string;
  /**
   * Vertex AI path: if set, an upgrade without `Authorization: Bearer <accessToken>` is refused with HTTP 401
   * UNAUTHENTICATED, as Google's front end does (vertex.ts). Unset: any caller is accepted.
   */
  accessToken?: string;
  /**
   * If set, other models are rejected with 1008 "models/X is not found for API version ..." (Vertex: "Publisher
   * Model `projects/...` not found."; entries may be bare ids or full resource names).
   */
  models?: string[];
  /** Extra setup validation (e.g. to mimic a model rejecting a field). Return a close to reject. */
  rejectSetup?: (setup: LiveClientSetup, session: FakeSession) => CloseSpec | undefined;
  /** Delay before `setupComplete` (default 0). `'never'` leaves the SDK's `connect()` pending. */
  setupDelayMs?: number | 'never' | ((sessionIndex: number) => number | 'never');
  /** "Thinking" time from end of caller turn (or tool response) to first output (default 150 ms). */
  responseLatencyMs?: number;
  /** Model audio per `inlineData` chunk (default 200 ms; recorded service chunks are 200–240 ms). */
  chunkMs?: number;
  /**
   * How much faster than real time chunks are sent (default 4). `generationComplete` follows the last
   * chunk; `turnComplete` comes when real-time playback of the reply would end (the model assumes it).
   */
  burstSpeed?: number;
  /** Synthesized speech duration per character (default 60 ms). */
  msPerChar?: number;
  /** Put transcript fragments in the same `serverContent` as audio (Gemini 3.1+ may do so). Default false. */
  multiPartEvents?: boolean;
  /**
   * Energy VAD defaults (−35 dBFS, 60 ms start, 500 ms end silence). The setup's
   * `automaticActivityDetection.prefixPaddingMs` / `silenceDurationMs` / sensitivities tune it, as the real
   * service is documented to honour them, unless `ignoreClientConfig` is set.
   */
  vad?: Partial<VadConfig> & { ignoreClientConfig?: boolean };
  /** Also send a `sessionResumptionUpdate` every N ms (when the setup enabled resumption). */
  resumptionUpdateEveryMs?: number;
  /**
   * Closed sessions kept in `sessions` (with their audio and messages); older ones are forgotten when a new
   * connection arrives. Default: all, as tests inspect them; a long-running local mode keeps a few.
   */
  keepClosedSessions?: number;
  /** Auto `goAway` this long after connecting, then close 1011 after `timeLeftSeconds`. */
  connectionLifetime?: { goAwayAfterMs: number; timeLeftSeconds: number };
  /** Behaviour of the real service beyond its documentation; all off by default. See `LiveQuirks`. */
  quirks?: LiveQuirks;
}

/**
 * What the real service does that its documentation does not promise, each seen in captures of real
 * sessions or reported from real calls; the source is next to each. Off by default: the server then
 * follows the documented protocol. `ALL_QUIRKS` turns every one on (docs/real-service-behaviour.md).
 */
export interface LiveQuirks {
  /**
   * A lone `{"interrupted":true}` right after the greeting's `turnComplete`: no caller speech, no
   * `turnComplete` after it (python-genai#2333, "phantom interrupt" after the greeting).
   */
  phantomInterruptAfterGreeting?: boolean;
  /** A barge-in sends `interrupted` and never a `turnComplete` after it (python-genai#2333). */
  interruptWithoutTurnComplete?: boolean;
  /**
   * This many more audio chunks of the cut generation follow `interrupted` (late continuation chunks:
   * Project-N-E-K-O/N.E.K.O#1777; a late event after the interrupt: langwatch/scenario#907).
   */
  lateChunksAfterInterrupt?: number;
  /**
   * How a reply ends: `both` (documented: generationComplete, then turnComplete at the playback end),
   * `generationComplete` only and never turnComplete (kazunori279/interpretab README), or `turnComplete`
   * only (python-genai#2117: turns, empty ones too, closed by a bare turnComplete). Default `both`.
   */
  turnEnd?: 'both' | 'generationComplete' | 'turnComplete';
  /**
   * Refuse (close 1011) a resume while an earlier connection of the same session is still open
   * (aicc2025/sip-to-ai#14, verified there against the live service).
   */
  refuseResumeWhileOpen?: boolean;
  /**
   * `usageMetadata`: `perTurn` (beside turnComplete, as the js-genai test recordings show; the default),
   * `incremental` (alone, with every audio chunk: "sent periodically", Live API best-practices), or `none`
   * (some models send none: captures of real sessions made for this project).
   */
  usage?: 'perTurn' | 'incremental' | 'none';
  /**
   * The last output transcript fragment rides with `generationComplete` in one `serverContent` with no
   * `modelTurn` (Gemini 3.1+ "several parts in one event", model migration notes; captures of real sessions made for this project).
   */
  transcriptWithGenerationComplete?: boolean;
  /** Bare `{}` messages now and then (captures of real sessions made for this project). */
  bareMessages?: boolean;
  /**
   * Top-level `voiceActivity {voiceActivityType, audioOffset: "8.400s"}` beside an empty `serverContent`
   * at caller speech start and end (gemini-3.1-flash-live-preview emits them: python-genai#2981).
   */
  voiceActivity?: boolean;
  /**
   * `sessionResumptionUpdate` unasked (without `setup.sessionResumption`) and repeatedly: three fresh
   * handles in a row after each turn (captures of real sessions made for this project; "sent periodically", session-management doc).
   */
  repeatedResumptionUpdates?: boolean;
  /** One `toolCall` with several calls whose ids mix `function-call-<digits>` with short ids (captures of real sessions made for this project). */
  mixedToolCallIds?: boolean;
  /**
   * Close code when a `goAway`'s time is up: 1011 "Deadline expired..." by default
   * (kizuna-ai-lab/sokuji#179); 1008 is also seen in captures of real sessions made for this project.
   */
  goAwayCloseCode?: number;
  /**
   * `interimInputTranscription` that repeats the whole segment so far, once verbatim, before the final
   * `inputTranscription` (field added in SDK 2.9.0; repetition: captures of real sessions made for this project).
   */
  interimInputTranscripts?: boolean;
  /** Output transcript deltas (leading spaces) with `finished: null` (Vertex skill: no usable finished flag). */
  transcriptFinishedNull?: boolean;
  /**
   * `automaticActivityDetection.silenceDurationMs` accepted and not honoured: the detector's own end silence decides
   * (gemini-3.1-flash-live-preview: a 5 s setting split a 2 s pause, googleapis/js-genai#1467,
   * googleapis/python-genai#2580; a 1.0 s mid-sentence pause closed the turn, google-gemini/gemini-live-api-examples#37).
   */
  ignoresSilenceDuration?: boolean;
  /**
   * The replies to these caller turns (conversation-wide `turnIndex`, the greeting cue included) stream at full
   * length but near-zero amplitude (x 1/1000, about -60 dB): the caller hears silence while audio bytes, transcripts
   * and turn ends look healthy (Vertex `gemini-live-2.5-flash-native-audio`, google-gemini/gemini-live-api-examples#40).
   */
  nearSilentAnswers?: readonly number[];
  /**
   * These caller turns get no reply at all: `turnComplete` with `turnCompleteReason: "RESPONSE_REJECTED"`, no audio,
   * no `interrupted` (the same issue: up to 27 in a row while the caller kept talking).
   */
  rejectedTurns?: readonly number[];
  /**
   * These caller audio turns are ignored: no transcription, no `interrupted`, no reply, and the turn stays open; the
   * caller's next turn (audio or text) is consumed to close it, with a `turnComplete` and no output
   * (`gemini-3.1-flash-live-preview`, google-gemini/gemini-live-api-examples#38).
   */
  ignoredUtterances?: readonly number[];
  /**
   * `audioStreamEnd` does not end the caller's turn: the end of speech is only detected while trailing audio keeps
   * arriving (`gemini-3.8-live`, openclaw/openclaw#152830). Without it the fake flushes its VAD on audioStreamEnd.
   */
  needsTrailingAudio?: boolean;
  /**
   * After an uninformative tool result (nothing, `null`, `[]`, `{}`, `''`, or an object holding only empty lists,
   * zeros and empty strings, like `{"results": [], "total_available": 0}`) the model calls the same function with the
   * same arguments again, up to this many times in the turn, before it speaks (Gemini 3.8: "sweeping two to five
   * times", Google's 3.8 migration notes).
   */
  sweepsOnUninformativeToolResult?: number;
}

/**
 * Every quirk on: how the integration tests run the main call flows "like the real service". The quirks that pick
 * turns by index (`nearSilentAnswers`, `rejectedTurns`, `ignoredUtterances`) are failures of particular turns, tested
 * one by one (test/integration/newest-service-behaviour.test.ts), not a way the service always behaves.
 */
export const ALL_QUIRKS: Readonly<LiveQuirks> = {
  phantomInterruptAfterGreeting: true,
  interruptWithoutTurnComplete: true,
  lateChunksAfterInterrupt: 2,
  turnEnd: 'generationComplete',
  refuseResumeWhileOpen: true,
  usage: 'incremental',
  transcriptWithGenerationComplete: true,
  bareMessages: true,
  voiceActivity: true,
  repeatedResumptionUpdates: true,
  mixedToolCallIds: true,
  goAwayCloseCode: 1008,
  interimInputTranscripts: true,
  transcriptFinishedNull: true,
  ignoresSilenceDuration: true,
  needsTrailingAudio: true,
  sweepsOnUninformativeToolResult: 5,
};

/** Every client frame, in order, with session-relative wall time. Invalid frames are kept too. */
export type ReceivedMessage =
  | (ClientMessage & { atMs: number })
  | { kind: 'invalid'; atMs: number; raw: string; close: CloseSpec };

export interface SentMessage {
  atMs: number;
  message: WireServerMessage;
}

export interface ModelTurnRecord {
  reply: FakeReply;
  origin: 'callerTurn' | 'say' | 'greeting' | 'toolCall';
  callerTurnIndex?: number;
  /** `cancelled`: caller spoke again before any output (nothing was sent, so no `interrupted`). */
  outcome: 'queued' | 'pending' | 'completed' | 'interrupted' | 'cancelled';
  /** Session-relative wall-clock ms. */
  scheduledAtMs: number;
  firstOutputAtMs?: number;
  generationCompleteAtMs?: number;
  turnCompleteAtMs?: number;
  /** Reply audio length (24 kHz samples) and how much of it was actually sent. */
  audioSamples: number;
  audioSamplesSent: number;
  /** Audio sent after `interrupted` (the `lateChunksAfterInterrupt` quirk), not in `audioSamplesSent`. */
  lateSamplesSent?: number;
  toolCallIds: string[];
}

export interface CallerTurn {
  /** Conversation-wide index (continues across resumed connections). */
  index: number;
  source: CallerTurnSource;
  /** Speech boundaries on the received-audio timeline (ms), for audio/activity turns. */
  audioStartMs?: number;
  audioEndMs?: number;
  heardText?: string;
  /** Session-relative wall-clock ms when the turn ended. */
  endedAtMs: number;
  reply?: FakeReply;
  modelTurn?: ModelTurnRecord;
}

export interface ToolCallRecord {
  id: string;
  name: string;
  args: Record<string, unknown>;
  atMs: number;
  status: 'pending' | 'continuing' | 'answered' | 'cancelled';
}

export interface ToolResponseRecord {
  atMs: number;
  response: FunctionResponse;
  /** false: answered a call that had already been cancelled (ignored, as the model dropped it). */
  accepted: boolean;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** `terminated` = socket destroyed without a close frame (client sees 1006). */
  initiatedBy: 'server' | 'client' | 'terminated';
}

export interface FakeSession {
  /** Connection order, 0-based. */
  readonly index: number;
  /** `performance.now()` when the connection opened: every `atMs` of this session counts from here. */
  readonly openedAt: number;
  /** Request path as received (note the SDK's `//ws/...` double slash). */
  readonly path: string;
  /** e.g. `v1`, `v1beta`, `v1alpha` (from the path). */
  readonly apiVersion: string | undefined;
  readonly method: 'BidiGenerateContent' | 'BidiGenerateContentConstrained';
  /** `key` (or `access_token` for the Constrained method) from the query string. */
  readonly apiKey: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** The parsed setup message, once received. */
  readonly setup: LiveClientSetup | undefined;
  readonly setupCompleteSent: boolean;
  /** Set when this connection resumed a session with a handle issued by this server. */
  readonly resumedFrom: { handle: string; sessionIndex: number } | undefined;
  /** Shared by a session and every connection that resumed it. */
  readonly conversationId: number;
  /** All `realtimeInput.audio`, decoded (resampled to 16 kHz if sent at another rate), in order. */
  readonly receivedAudio16k: ReceivedAudio;
  readonly receivedMessages: readonly ReceivedMessage[];
  readonly sentMessages: readonly SentMessage[];
  readonly turns: readonly CallerTurn[];
  readonly modelTurns: readonly ModelTurnRecord[];
  /** Model turns cut by caller activity after output had started (each sent `interrupted`). */
  readonly interruptions: number;
  readonly toolCalls: readonly ToolCallRecord[];
  readonly toolResponses: readonly ToolResponseRecord[];
  /** Resumption handles issued on this connection, oldest first. */
  readonly issuedHandles: readonly string[];
  /** Errors thrown by test callbacks (script, transcribe) — the session closes 1011 on them. */
  readonly errors: readonly unknown[];
  readonly closed: Promise<CloseInfo>;
  readonly closeInfo: CloseInfo | undefined;
  readonly isOpen: boolean;
  /** A model turn is between scheduling and `turnComplete`. */
  readonly isModelTurnActive: boolean;

  /** `goAway{timeLeft}`, then close 1011 "Deadline expired..." after that many seconds if still open. */
  sendGoAway(timeLeftSeconds: number): void;
  /**
   * Start a model turn that is just these calls (queued behind an active turn); `followUp` is spoken
   * once all are answered. Returns the call ids (`function-call-<digits>`).
   */
  sendToolCall(calls: FakeToolCall[], followUp?: FakeReply): string[];
  /** Resumable (default): a new (or given) handle is issued; `resumable=false` sends the empty update. */
  sendResumptionUpdate(handle?: string, resumable?: boolean): void;
  /** Raw escape hatch: send any server message (binary JSON frame). */
  send(message: WireServerMessage): void;
  /** Close with a code/reason (e.g. 1011 "Internal error encountered."). */
  closeWith(code: number, reason: string): void;
  /** Destroy the socket without a close frame (client sees 1006). */
  drop(): void;
  /** Start a model turn now (queued behind an active one). */
  say(reply: FakeReply): void;
  /** Resolve once `predicate(session)` holds (re-checked on every frame and state change). */
  waitUntil(predicate: (session: FakeSession) => boolean, timeoutMs?: number): Promise<void>;
}

export interface FakeGeminiLive {
  /** `http://127.0.0.1:PORT` — for `GOOGLE_GEMINI_BASE_URL` or `httpOptions.baseUrl`. */
  readonly baseUrl: string;
  readonly port: number;
  /** In connection order (rejected connections included). */
  readonly sessions: readonly FakeSession[];
  /** Resolves once connection `index` (default 0) exists and has sent its setup (or closed). */
  waitForSession(index?: number, timeoutMs?: number): Promise<FakeSession>;
  /** Terminate every socket and stop listening. */
  close(): Promise<void>;
}
