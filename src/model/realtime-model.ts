/**
 * The model contract: what a phone call needs from a realtime speech model, in the project's own terms. The call
 * core (src/call) talks to nothing else; Gemini Live (src/model/gemini), the keyless local model
 * (src/local-agent) and the replay's scripted model (src/model/scripted) implement it. docs/realtime-model.md
 * shows how another provider plugs in.
 */
import type { ModelInputAudio, ModelOutputAudio } from '../audio/model-audio.js';
import type { ToolDeclaration } from '../domain/tool-declaration.js';

export type { ToolDeclaration } from '../domain/tool-declaration.js';

// ── Audio ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Caller audio as the model takes it (16 kHz PCM16 LE mono, or the phone's 8 kHz mu-law unchanged), and agent
 * audio as it gives it (24 kHz PCM16 LE mono, or 8 kHz mu-law). The call converts to and from the phone's mu-law
 * (src/audio/model-audio.ts); another rate needs a converter there first.
 */
export type { ModelInputAudio, ModelOutputAudio } from '../audio/model-audio.js';

// ── Tools ────────────────────────────────────────────────────────────────────────────────────────

/** The model asks for a tool to run. `id` is the model's own; the answer carries it back. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

/**
 * When a non-blocking tool's answer reaches the conversation: at once, cutting in (`interrupt`); once the model
 * is idle (`whenIdle`); or only as context for later (`silent`). Only for models with `toolResultScheduling`.
 */
export type ToolResultScheduling = 'interrupt' | 'whenIdle' | 'silent';

/** The answer to one tool call: its output (any JSON value), or an error the model should hear. */
export interface ToolAnswer {
  readonly id: string;
  readonly name: string;
  readonly response: { readonly output: unknown } | { readonly error: string };
  readonly scheduling?: ToolResultScheduling;
}

// ── Usage ────────────────────────────────────────────────────────────────────────────────────────

/** Token counts by modality, as the provider reported them; a modality it did not report is absent. */
export interface TokenCounts {
  readonly text?: number;
  readonly audio?: number;
  readonly image?: number;
  readonly video?: number;
}

/**
 * One usage report, as the provider sent it. What a report covers is the model's `usageReporting` capability:
 * `perResponse`, each report is one model response (its prompt is the whole context the model read for it);
 * `runningTotal`, each report is the conversation so far. Totals are the provider's own.
 */
export interface UsageReport {
  readonly prompt: TokenCounts & { readonly total?: number };
  readonly response: TokenCounts & { readonly total?: number };
  readonly cachedTokens?: number;
  readonly thinkingTokens?: number;
  readonly toolUsePromptTokens?: number;
  readonly totalTokens?: number;
}

// ── Sessions ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Why a conversation moved to a new connection: the provider asked it to (`handover`, e.g. a connection reaching
 * its time limit), the connection failed (`connectionLost`), or the call asked for it (`stall`: the model went
 * quiet when it should answer).
 */
export type SessionSwitchReason = 'handover' | 'connectionLost' | ReconnectReason;

/** Why the call asks for a fresh connection. */
export type ReconnectReason = 'stall';

/** How many connections a conversation took, and why it moved between them. */
export interface ConversationStats {
  readonly connections: number;
  readonly switches: Readonly<Record<SessionSwitchReason, number>>;
}

// ── Events ───────────────────────────────────────────────────────────────────────────────────────

/** What a conversation tells its call, as one union the call can `switch` over. */
export type ConversationEvent =
  /** Agent audio in the model's output format, decoded once at the wire edge. Shared: copy to keep it. */
  | { type: 'audio'; audio: Uint8Array }
  /** The model stopped its turn because the caller spoke: what it had not yet sent is gone. */
  | { type: 'interrupted' }
  /** The model has generated all of its turn (the audio may still be playing). */
  | { type: 'generationComplete' }
  /** The model's turn is over. `detail`: the provider's own words for why, for logs only. */
  | { type: 'turnComplete'; detail?: string }
  /** What the caller said, and what the agent says, as text; fragments of one turn concatenate. */
  | { type: 'inputTranscript'; text: string }
  | { type: 'outputTranscript'; text: string }
  | { type: 'toolCall'; calls: readonly ToolCall[] }
  /** The model no longer wants these calls answered (the caller interrupted it). */
  | { type: 'toolCallCancellation'; ids: readonly string[] }
  | { type: 'usage'; usage: UsageReport }
  /** A new connection took over. `replayedMs` of caller audio went to it again, `bufferedMs` waited for it. */
  | { type: 'sessionSwitched'; reason: SessionSwitchReason; switchMs: number; replayedMs: number; bufferedMs: number; resumed: boolean }
  /** The model cannot be reached any more: the call apologises and ends. */
  | { type: 'lost'; reason: string };

// ── Turn taking ──────────────────────────────────────────────────────────────────────────────────

/**
 * Who decides where the caller's turns start and end: the model's own voice detection (`model`), or the call
 * (`local`), which then marks them with `activityStart`/`activityEnd` (models with `activitySignals`).
 */
export type TurnDetection = 'model' | 'local';

/**
 * How a conversation takes turns. Absent fields are the model's defaults. `startSensitivity`, `endSensitivity`,
 * `prefixPaddingMs` and `silenceDurationMs` tune the model's voice detection (`voiceDetectionSettings`), so they
 * apply with `detection: 'model'` only: with `local` the call detects turns itself.
 */
export interface TurnSettings {
  readonly detection: TurnDetection;
  /** How readily the model's voice detection hears speech begin (`high`: more often) and end (`high`: sooner). */
  readonly startSensitivity?: 'high' | 'low';
  readonly endSensitivity?: 'high' | 'low';
  /** Speech needed before the model commits to a start of speech, ms. */
  readonly prefixPaddingMs?: number;
  /** Silence needed before the model commits to an end of speech, ms. */
  readonly silenceDurationMs?: number;
  /** false: the caller's speech does not interrupt the agent, who finishes what it says (`interruptionControl`). */
  readonly callerInterrupts?: boolean;
  /** What a caller turn holds: the speech only (`activity`), or all audio since the last turn (`allInput`). */
  readonly turnCoverage?: 'activity' | 'allInput';
}

/** Hints for transcribing the caller: the languages to expect (BCP-47) and words to listen for (names, products). */
export interface InputTranscriptionSettings {
  readonly languages?: readonly string[];
  readonly vocabulary?: readonly string[];
}

// ── Capabilities ─────────────────────────────────────────────────────────────────────────────────

/**
 * What a call may ask of a model, so features ask instead of knowing which model it is. A flag is true only when
 * the model offers the feature AND this implementation of the contract carries it.
 */
export interface ModelCapabilities {
  /** The call may mark caller speech itself (`activityStart`/`activityEnd`) instead of the model detecting it. */
  readonly activitySignals: boolean;
  /** The model's own voice detection takes settings (sensitivity, padding, silence before a turn ends). */
  readonly voiceDetectionSettings: boolean;
  /** Whether the caller's speech interrupts the agent can be set (`TurnSettings.callerInterrupts`). */
  readonly interruptionControl: boolean;
  /** What a caller turn holds can be set (`TurnSettings.turnCoverage`). */
  readonly turnCoverage: boolean;
  /** A conversation continues on a new connection from a handle: handover, failover, `reconnect`. */
  readonly sessionResumption: boolean;
  /** Tools declared NON_BLOCKING run while the model keeps talking. */
  readonly nonBlockingTools: boolean;
  /** `ToolAnswer.scheduling` is honoured. */
  readonly toolResultScheduling: boolean;
  /** The model adapts its tone to the caller's (affective dialog). */
  readonly affectiveDialog: boolean;
  /** The model may choose not to answer what is not meant for it (proactive audio). */
  readonly proactiveAudio: boolean;
  /** How thinking is set: not at all, by a level, or by a token budget. */
  readonly thinking: 'none' | 'level' | 'budget';
  /** Input transcription takes the languages to expect. */
  readonly transcriptionLanguages: boolean;
  /** Input transcription takes words to listen for (custom vocabulary). */
  readonly transcriptionVocabulary: boolean;
  /** What one `usage` event covers (see UsageReport), or `none` when the model reports no usage. */
  readonly usageReporting: 'perResponse' | 'runningTotal' | 'none';
}

// ── The model and its conversations ──────────────────────────────────────────────────────────────

/** What a model implementation may log through (a pino logger is one). */
export interface ModelLog {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** What one call's conversation is set up with: the agent, as the model sees it. */
export interface ConversationSettings {
  /** The agent's name: for logs, and for a stand-in model to say whom it stands in for. */
  agentName: string;
  model: string;
  /** The provider's name of a voice; undefined: the provider's default. */
  voice: string | undefined;
  instructions: string;
  tools: readonly ToolDeclaration[];
  /** How turns are taken; absent: the model detects them with its defaults. Checked at start-up (`settingsProblems`). */
  turns?: TurnSettings;
  /** Hints for the caller's transcript, for models with `transcriptionLanguages` / `transcriptionVocabulary`. */
  inputTranscription?: InputTranscriptionSettings;
}

/** What `settingsProblems` checks of an agent: the settings fixed for all its calls. */
export type AgentModelSettings = Pick<ConversationSettings, 'model' | 'voice' | 'turns' | 'inputTranscription'>;

export interface ConversationHooks {
  log: ModelLog;
  onEvent: (event: ConversationEvent) => void;
  /** Every resumable handle the model hands out, e.g. to store where another instance can resume the call. */
  onResumptionHandle?: (handle: string) => void;
  /** Continue the conversation an earlier connection (or another instance) had: its latest resumption handle. */
  resumptionHandle?: string;
}

/**
 * One call's conversation with a realtime speech model, across however many connections it takes. Input goes in
 * through the send methods, which never throw and hold what arrives before `start()` has connected; typed events
 * come out through the `onEvent` it was made with. After `close()` nothing more is sent or reported.
 */
export interface RealtimeConversation {
  /** Connects; rejects when the model cannot be reached or refuses the setup (the call then ends). */
  start(): Promise<void>;
  /** Caller audio in the model's input format. The bytes are valid only during the call: copy to keep them. */
  sendAudio(audio: Uint8Array): void;
  /** Text for the model to act on: the greeting instruction, keypad digits, the watchdog's cues. */
  sendText(text: string): void;
  sendToolAnswers(answers: readonly ToolAnswer[]): void;
  /** Continue on a fresh connection, resumed where the model allows (`sessionResumption`). */
  reconnect(reason: ReconnectReason): void;
  /**
   * The caller started and stopped talking, when the call detects turns (`activitySignals`, `detection: 'local'`).
   * Caller audio keeps flowing between them and outside them; held and replayed in order like audio.
   */
  activityStart?(): void;
  activityEnd?(): void;
  close(): void;
  readonly stats: ConversationStats;
}

/** A realtime speech model the calls can talk to. */
export interface RealtimeModel {
  /** Who serves it, for logs: e.g. `gemini-api`, `vertex-ai`, `local`. */
  readonly provider: string;
  /** The model an agent gets when it names none. */
  readonly defaultModel: string;
  readonly audio: { readonly input: ModelInputAudio; readonly output: ModelOutputAudio };
  /** What `model` (one of this provider's models) can do. */
  capabilities(model: string): ModelCapabilities;
  /**
   * What this model would refuse or ignore in an agent's fixed settings (an unknown voice, a turn setting this model
   * does not honour), one sentence each, checked at start-up so a mistake never reaches a call. What the capability
   * flags say is checked by the service; this is for what only the model knows.
   */
  settingsProblems(settings: AgentModelSettings): string[];
  /**
   * A conversation, not yet connected. `settings` is read once, when `start()` connects: an agent's instructions
   * may be written per call, asynchronously.
   */
  conversation(settings: () => Promise<ConversationSettings>, hooks: ConversationHooks): RealtimeConversation;
}

/** Capabilities with nothing optional: a model that only talks, listens and runs blocking tools. */
export const BASIC_CAPABILITIES: ModelCapabilities = Object.freeze({
  activitySignals: false,
  voiceDetectionSettings: false,
  interruptionControl: false,
  turnCoverage: false,
  sessionResumption: false,
  nonBlockingTools: false,
  toolResultScheduling: false,
  affectiveDialog: false,
  proactiveAudio: false,
  thinking: 'none',
  transcriptionLanguages: false,
  transcriptionVocabulary: false,
  usageReporting: 'none',
});

/** Switch counts starting at zero, for a conversation's stats. */
export function noSwitches(): Record<SessionSwitchReason, number> {
  return { handover: 0, connectionLost: 0, stall: 0 };
}
