/**
 * The model contract: what a phone call needs from a realtime speech model, in the project's own terms. The call
 * core (src/call) talks to nothing else; Gemini Live (src/model/gemini), the keyless local model
 * (src/local-agent) and the replay's scripted model (src/model/scripted) implement it. docs/realtime-model.md
 * shows how another provider plugs in.
 */
import type { ModelInputAudio, ModelOutputAudio } from '../audio/model-audio.js';
import type { ToolDeclaration, ToolResultScheduling } from '../domain/tool-declaration.js';

export type { ToolDeclaration } from '../domain/tool-declaration.js';

// ── Audio ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Caller audio as the model takes it (16 kHz PCM16 LE mono, or the phone's 8 kHz mu-law unchanged), and agent
 * audio as it gives it (24 kHz PCM16 LE mono, or 8 kHz mu-law). The call converts to and from the phone's mu-law
 * (src/audio/model-audio.ts); another rate needs a converter there first.
 */
export type { ModelInputAudio, ModelOutputAudio } from '../audio/model-audio.js';

// ── Tools ────────────────────────────────────────────────────────────────────────────────────────

export type { ToolResultScheduling } from '../domain/tool-declaration.js';

/** The model asks for a tool to run. `id` is the model's own; the answer carries it back. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

/**
 * Why a tool call gave no result, in the terms Google's Gemini 3.8 migration notes ask for, so the model neither
 * guesses nor repeats the call to be sure: what kind of failure (`status`), whether calling again could help
 * (`retryable`), what happened (`message`) and what to do next (`hint`).
 */
export interface ToolFailure {
  readonly status: ToolFailureStatus;
  readonly retryable: boolean;
  readonly message: string;
  readonly hint: string;
}

/**
 * `error`: the tool said no (a ToolError) or failed inside; `invalid_argument`: the arguments broke the tool's
 * schema; `unknown_tool`: no tool has that name; `timeout`: it did not finish in time.
 */
export type ToolFailureStatus = 'error' | 'invalid_argument' | 'unknown_tool' | 'timeout';

/** The answer to one tool call: its output (any JSON value), or why there is none. */
export interface ToolAnswer {
  readonly id: string;
  readonly name: string;
  readonly response: { readonly output: unknown } | { readonly error: ToolFailure };
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

/**
 * Why the call asks for a fresh connection: the model went quiet when it should answer (`stall`), its answer could
 * not be heard (`inaudibleAnswer`), or it declined to answer turn after turn (`rejectedTurns`).
 */
export type ReconnectReason = 'stall' | 'inaudibleAnswer' | 'rejectedTurns';

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
  /**
   * The model's turn is over. `detail`: the provider's own words for why, for logs. `rejected`: the model declined
   * to answer this turn (Gemini: `turnCompleteReason: RESPONSE_REJECTED`), which the call counts and recovers from.
   */
  | { type: 'turnComplete'; detail?: string; rejected?: true }
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
  /** Tools declared BLOCKING make the model wait for their answer (some models only run tools asynchronously). */
  readonly blockingTools: boolean;
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

// ── What an agent asks of its model ─────────────────────────────────────────────────────────────

/** How much the model reasons before it answers, for models whose thinking can be set. */
export type ThinkingSetting = { readonly level: ThinkingLevel } | { readonly budget: number };
export type ThinkingLevel = 'minimal' | 'low' | 'medium' | 'high';

/**
 * The model features an agent turns on or sets; absent: the model's default. Each is checked against the model's
 * capabilities when the service starts (`settingsProblems`), never found out in a call.
 */
export interface ModelFeatures {
  /** The model adapts its tone to the caller's. */
  readonly affectiveDialog?: boolean;
  /** The model may stay silent when what it hears is not meant for it. */
  readonly proactiveAudio?: boolean;
  /** A thinking level (`{ level: 'low' }`) or a token budget (`{ budget: 0 }`: no thinking), as the model takes it. */
  readonly thinking?: ThinkingSetting;
  /** Sampling temperature, 0 to 2: lower is more predictable. */
  readonly temperature?: number;
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
  /** The features the agent turned on or set (checked against the model at start-up). */
  features: ModelFeatures;
}

/** What `settingsProblems` checks of an agent: the settings fixed for all its calls. */
export type AgentModelSettings = Pick<ConversationSettings, 'model' | 'voice' | 'turns' | 'inputTranscription' | 'features' | 'tools'>;

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
   * does not honour, a feature it does not offer, a tool behaviour it does not run), one sentence each naming the
   * model, the feature and what to do instead, checked at start-up so a mistake never reaches a call. What the
   * capability flags say of turn settings is checked by the service; this is for what only the model knows.
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
  blockingTools: true,
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
  return { handover: 0, connectionLost: 0, stall: 0, inaudibleAnswer: 0, rejectedTurns: 0 };
}
