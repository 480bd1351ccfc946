import type { ConversationSettings, ToolAnswer, ToolCall } from '../realtime-model.js';

/** What the caller did that the model answers: a spoken turn, or text the call sent (a cue, keypad digits). */
export type CallerTurn =
  | { kind: 'speech'; index: number; durationMs: number; /** The turn's 16 kHz audio, at most MAX_TURN_AUDIO_MS. */ audio: Int16Array }
  | { kind: 'text'; index: number; text: string };

/** What the model says to one caller turn. */
export interface ScriptedReply {
  /** What the model "heard" in a spoken turn: its input transcript (default: `(caller speech N.N s)`). */
  heard?: string;
  /** What the agent says: its output transcript. */
  text: string;
  /** How it sounds, 24 kHz PCM16; default: the synthetic voice saying `text` at the conversation's pace. */
  audio?: Int16Array;
  /** Tools to call first; the reply is spoken once every call is answered. */
  toolCalls?: ReadonlyArray<Pick<ToolCall, 'name' | 'args'>>;
  /** What to say once every call is answered, made from the answers (replaces `text` and `audio`). */
  afterToolAnswers?: (answers: readonly ToolAnswer[]) => { text: string; audio?: Int16Array };
}

/** The model's side of one conversation: a reply to each caller turn, or none (the model stays silent). */
export interface ConversationScript {
  reply(turn: CallerTurn): ScriptedReply | undefined;
}

/** Makes a conversation's script from its settings (the agent's name, instructions and tools). */
export type ScriptFactory = (settings: ConversationSettings) => ConversationScript;

/** What a scripted conversation heard and did, for whoever runs it to inspect (tests, the replay's report). */
export interface ConversationJournal {
  /** The agent it spoke for, once the conversation has started. */
  agentName: string | undefined;
  readonly callerTurns: JournalTurn[];
  readonly replies: JournalReply[];
  readonly toolCalls: ToolCall[];
  readonly toolAnswers: ToolAnswer[];
  /** Replies cut off by the caller after some of them had been sent. */
  interruptions: number;
  closed: boolean;
}

export type JournalTurn =
  | { kind: 'text'; index: number; text: string }
  /** Times on the conversation's audio timeline; levels of the speech and of the quiet heard before it. */
  | { kind: 'speech'; index: number; heard: string; startMs: number; endMs: number; levelDbfs: number; quietLevelDbfs: number };

export interface JournalReply {
  /** The caller turn it answers. */
  turn: number;
  text: string;
  /** `cancelled`: the caller spoke again before any of it was sent, so there was nothing to interrupt. */
  outcome: 'pending' | 'playing' | 'completed' | 'interrupted' | 'cancelled';
}
