/**
 * What a replay plays: the caller's side of a call on a timeline, the model's side as a script for
 * the scripted model, and what should come of it. Made from a fixture (fixture.ts) or from a
 * recording (from-recording.ts).
 */
import type { EndReason } from '../domain/end-reasons.js';

/** Caller turns as the scripted model sees them: speech in the audio, keypad digits sent as text, or the call's own cues. */
export type CallerTurnKind = 'speech' | 'keypad' | 'cue';

export interface ScriptedToolCall {
  name: string;
  /** A string value `"$digits"` stands for the digits of the keypad text this reply answers. */
  args: Record<string, unknown>;
}

/** One model turn: answers the next caller turn of kind `to`. */
export interface ScriptedReply {
  to: CallerTurnKind;
  /** What the model "heard" (its input transcript) for a speech turn. */
  heard?: string;
  /** Tool calls made before speaking; the reply is spoken once every call is answered. */
  toolCalls?: ScriptedToolCall[];
  /** What the agent says. */
  text: string;
}

export interface ExpectedLine {
  speaker: 'caller' | 'agent' | 'keypad';
  text: string;
  /**
   * The agent was cut off: its transcript stops where the model was interrupted, so `text` is what it
   * would have said and the line matches any non-empty beginning of it.
   */
  interrupted?: boolean;
}

export interface ExpectedToolCall {
  name: string;
  /** Matched as a subset: only the fields given are compared. */
  args?: unknown;
  /** The answer the model got (`{ output }` or `{ error }`), matched as a subset. */
  result?: unknown;
}

export interface ReplayExpectations {
  transcript?: ExpectedLine[];
  toolCalls?: ExpectedToolCall[];
  interruptions?: number;
  endReason?: EndReason;
  /** No agent turn may start later than this after the caller's speech or key press it answers. */
  maxResponseLatencyMs?: number;
}

export interface CallerSpeech {
  atMs: number;
  endMs: number;
  text?: string;
}

export interface ReplayScenario {
  name: string;
  description?: string;
  /** The caller's number as Twilio's `From`; undefined for a withheld number. */
  callerNumber: string | undefined;
  /** The caller channel from the start of the stream: 8 kHz mu-law. */
  callerAudio: Uint8Array;
  /** Where the caller speaks in `callerAudio` (for the report). */
  speech: CallerSpeech[];
  /** Key presses, one digit each, in time order. */
  keys: Array<{ atMs: number; digit: string }>;
  /** When the caller hangs up; undefined when the agent is expected to end the call. */
  hangUpAtMs: number | undefined;
  replies: ScriptedReply[];
  expect: ReplayExpectations | undefined;
  /** `fixture`: the fixture's own expectations; `recording`: what the recorded call did, for comparison. */
  expectationsFrom: 'fixture' | 'recording';
  /** The files the scenario was read from: the replay's own recording never replaces them. */
  sourceFiles?: string[];
}

/** Time between key presses when a fixture keys several digits at once (a brisk human pace). */
export const KEY_INTERVAL_MS = 250;

export class ReplayInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayInputError';
  }
}
