/**
 * The event log written next to each call recording (`<CallSid>.json`), and a tolerant reader for it.
 * Every `atMs` is milliseconds on the call's timeline: 0 is the start of the media stream, the same
 * axis as the WAV (sample n is at n / 8 ms).
 */
import { asEndReason, END_REASONS, type EndReason } from '../domain/end-reasons.js';

export const RECORDING_FORMAT = 'gemini-phone-agent/call-recording';
export const RECORDING_FORMAT_VERSION = 1;

export type RecordingEvent =
  /** A stretch of caller speech found in the caller channel (energy VAD, as the call's own). */
  | { type: 'callerSpeech'; atMs: number; endMs: number }
  /** What Gemini transcribed of the caller, or what the agent said, one line per turn. */
  | { type: 'transcript'; atMs: number; speaker: 'caller' | 'agent'; text: string; agentTurn?: number; interrupted?: boolean }
  | { type: 'keypad'; atMs: number; digit: string }
  /** Text the call sent the model on the caller's behalf (keypad digits, cues). */
  | { type: 'textToModel'; atMs: number; text: string }
  | { type: 'toolCall'; atMs: number; id: string; name: string; args: unknown }
  | { type: 'toolResult'; atMs: number; id: string; name: string; response: unknown }
  | { type: 'toolCallCancelled'; atMs: number; ids: string[] }
  /** The caller talked over the agent: how much of that turn had been sent, heard, and thrown away. */
  | { type: 'interrupted'; atMs: number; agentTurn: number; sentMs?: number; heardMs?: number; droppedMs?: number }
  | { type: 'modelSessionSwitched'; atMs: number; reason: string }
  | { type: 'modelLost'; atMs: number; reason: string }
  | { type: 'callEnded'; atMs: number; reason: string };

export interface AgentTurnRecord {
  turn: number;
  /** First output of the model for this turn (audio or transcript) reached the call. */
  startedAtMs: number;
  /** When the caller started hearing it; absent if nothing of it was heard. */
  firstHeardAtMs?: number;
  sentMs: number;
  heardMs: number;
  interrupted: boolean;
  text: string;
  /** From the end of the caller's speech (or last key press) to the first audio heard of this turn. */
  latencyMs?: number;
  respondsTo?: 'speech' | 'keypad';
}

export interface RecordingLog {
  format: typeof RECORDING_FORMAT;
  version: typeof RECORDING_FORMAT_VERSION;
  callSid: string;
  streamSid: string;
  /** Phone numbers are masked (`+1********23`). */
  from?: string;
  to?: string;
  direction?: string;
  startedAt: string;
  endedAt: string;
  endReason: EndReason;
  durationMs: number;
  audio: {
    file: string;
    sampleRateHz: number;
    channels: ['caller', 'agent'];
    frames: number;
    /** Audio past the recording limit was not kept. */
    truncated: boolean;
    /** Playout lag learned from mark echoes (ms), see heard-agent-audio.ts. */
    playoutLagMs: number;
  };
  events: RecordingEvent[];
  agentTurns: AgentTurnRecord[];
  /** The call's own summary line (as logged at `call ended`). */
  summary: unknown;
}

export class RecordingFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingFormatError';
  }
}

const EVENT_TYPES = new Set<RecordingEvent['type']>([
  'callerSpeech', 'transcript', 'keypad', 'textToModel', 'toolCall', 'toolResult', 'toolCallCancelled',
  'interrupted', 'modelSessionSwitched', 'modelLost', 'callEnded',
]);

/**
 * Reads an event log. Structure is checked where the replay depends on it (event times, texts,
 * digits); events of unknown types are skipped, so a newer writer's logs still replay.
 */
export function parseRecordingLog(value: unknown): RecordingLog {
  const log = record(value, 'recording');
  if (log['format'] !== RECORDING_FORMAT) throw new RecordingFormatError(`not a call recording log (format is ${JSON.stringify(log['format'])})`);
  if (log['version'] !== RECORDING_FORMAT_VERSION) throw new RecordingFormatError(`unsupported recording version ${JSON.stringify(log['version'])}`);
  const audio = record(log['audio'], 'audio');
  const events = array(log['events'], 'events')
    .filter((event): event is Record<string, unknown> => isRecord(event) && EVENT_TYPES.has(event['type'] as RecordingEvent['type']))
    .map((event, index) => checkEvent(event, index));
  const agentTurns = array(log['agentTurns'], 'agentTurns').map((turn, index) => {
    const t = record(turn, `agentTurns[${index}]`);
    return { ...t, turn: num(t['turn'], `agentTurns[${index}].turn`), startedAtMs: num(t['startedAtMs'], `agentTurns[${index}].startedAtMs`), text: str(t['text'], `agentTurns[${index}].text`) } as AgentTurnRecord;
  });
  return {
    ...(log as unknown as RecordingLog),
    callSid: str(log['callSid'], 'callSid'),
    endReason: endReason(log['endReason']),
    durationMs: num(log['durationMs'], 'durationMs'),
    audio: { ...(audio as unknown as RecordingLog['audio']), file: str(audio['file'], 'audio.file') },
    events,
    agentTurns,
  };
}

function checkEvent(event: Record<string, unknown>, index: number): RecordingEvent {
  const path = `events[${index}]`;
  num(event['atMs'], `${path}.atMs`);
  switch (event['type']) {
    case 'transcript':
    case 'textToModel':
      str(event['text'], `${path}.text`);
      break;
    case 'keypad':
      if (typeof event['digit'] !== 'string' || !/^[0-9*#]$/.test(event['digit'])) throw new RecordingFormatError(`${path}.digit is not a keypad digit`);
      break;
    case 'toolCall':
    case 'toolResult':
      str(event['name'], `${path}.name`);
      break;
    case 'callerSpeech':
      num(event['endMs'], `${path}.endMs`);
      break;
  }
  return event as unknown as RecordingEvent;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw new RecordingFormatError(`${path} is not an object`);
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new RecordingFormatError(`${path} is not an array`);
  return value;
}

function num(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RecordingFormatError(`${path} is not a non-negative number`);
  return value;
}

function endReason(value: unknown): EndReason {
  const reason = asEndReason(str(value, 'endReason'));
  if (reason === undefined) throw new RecordingFormatError(`endReason is not one of ${END_REASONS.join(', ')} (got ${JSON.stringify(value)})`);
  return reason;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new RecordingFormatError(`${path} is not a string`);
  return value;
}
