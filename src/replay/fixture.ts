import { asEndReason, END_REASONS, type EndReason } from '../domain/end-reasons.js';
import { E164_PATTERN } from '../domain/identifiers.js';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MULAW_BYTES_PER_MS } from '../audio/format.js';
import { MULAW_SILENCE_BYTE } from '../audio/mulaw.js';
import {
  KEY_INTERVAL_MS,
  ReplayInputError,
  type CallerSpeech,
  type CallerTurnKind,
  type ExpectedLine,
  type ExpectedToolCall,
  type ReplayExpectations,
  type ReplayScenario,
  type ScriptedReply,
} from './scenario.js';

/**
 * A call fixture: `fixtures/calls/<name>/call.json` and its speech clips (8 kHz mu-law, no header).
 *
 * ```json
 * {
 *   "description": "what the call is about",
 *   "caller": { "number": "+14155550123" },
 *   "timeline": [
 *     { "atMs": 2500, "say": "question.ulaw", "text": "what the clip says" },
 *     { "atMs": 9000, "keys": "577269#" },
 *     { "atMs": 15000, "hangUp": true }
 *   ],
 *   "model": { "replies": [{ "to": "cue" | "speech" | "keypad", "heard": "…", "toolCalls": [{ "name": "…", "args": {} }], "text": "…" }] },
 *   "expect": { "transcript": [{ "speaker": "agent", "text": "…" }], "toolCalls": [{ "name": "…", "args": {}, "result": {} }],
 *               "interruptions": 0, "endReason": "caller-hung-up", "maxResponseLatencyMs": 2500 }
 * }
 * ```
 *
 * Times are ms from the start of the media stream. Replies answer caller turns of their kind in order.
 */
export const FIXTURE_FILE = 'call.json';
/** E.164, or absent for a withheld number. */
const CALL_KINDS: readonly CallerTurnKind[] = ['speech', 'keypad', 'cue'];
/** Nothing replays for longer than this: a fixture is a short, focused call. */
const MAX_FIXTURE_MS = 10 * 60_000;

/** Reads a fixture directory (or its call.json). Every problem is a ReplayInputError naming the field. */
export function loadCallFixture(path: string): ReplayScenario {
  const file = basename(path) === FIXTURE_FILE ? resolve(path) : resolve(path, FIXTURE_FILE);
  const dir = dirname(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ReplayInputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return parseCallFixture(raw, { name: basename(dir), readClip: (clip) => readClip(dir, clip) });
}

export interface FixtureSources {
  name: string;
  /** The bytes of a speech clip named in the timeline. */
  readClip: (file: string) => Uint8Array;
}

export function parseCallFixture(raw: unknown, sources: FixtureSources): ReplayScenario {
  const root = object(raw, 'call.json');
  const caller = root['caller'] === undefined ? {} : object(root['caller'], 'caller');
  const number = optionalString(caller['number'], 'caller.number');
  if (number !== undefined && !E164_PATTERN.test(number)) throw new ReplayInputError(`caller.number must be E.164 such as +14155550123 (got "${number}")`);

  const speech: Array<CallerSpeech & { clip: Uint8Array }> = [];
  const keys: Array<{ atMs: number; digit: string }> = [];
  let hangUpAtMs: number | undefined;
  array(root['timeline'], 'timeline').forEach((item, index) => {
    const path = `timeline[${index}]`;
    const action = object(item, path);
    const atMs = time(action['atMs'], `${path}.atMs`);
    const kinds = ['say', 'keys', 'hangUp'].filter((key) => action[key] !== undefined);
    if (kinds.length !== 1) throw new ReplayInputError(`${path} must have exactly one of "say", "keys", "hangUp"`);
    if (action['say'] !== undefined) {
      const clipName = string(action['say'], `${path}.say`);
      if (!/^[\w.-]+\.ulaw$/.test(clipName)) throw new ReplayInputError(`${path}.say must name a .ulaw file in the fixture directory (got "${clipName}")`);
      const clip = sources.readClip(clipName);
      const text = optionalString(action['text'], `${path}.text`);
      speech.push({ atMs, endMs: atMs + Math.round(clip.length / MULAW_BYTES_PER_MS), clip, ...(text === undefined ? {} : { text }) });
    } else if (action['keys'] !== undefined) {
      const digits = string(action['keys'], `${path}.keys`);
      if (!/^[0-9*#]{1,32}$/.test(digits)) throw new ReplayInputError(`${path}.keys must be 1 to 32 keypad keys (0-9, *, #)`);
      [...digits].forEach((digit, i) => keys.push({ atMs: atMs + i * KEY_INTERVAL_MS, digit }));
    } else {
      if (action['hangUp'] !== true) throw new ReplayInputError(`${path}.hangUp must be true`);
      if (hangUpAtMs !== undefined) throw new ReplayInputError(`${path}: the caller can hang up only once`);
      hangUpAtMs = atMs;
    }
  });
  speech.sort((a, b) => a.atMs - b.atMs);
  keys.sort((a, b) => a.atMs - b.atMs);
  for (let i = 1; i < speech.length; i++) {
    if (speech[i]!.atMs < speech[i - 1]!.endMs) throw new ReplayInputError(`timeline: speech at ${speech[i]!.atMs} ms overlaps the clip before it (until ${speech[i - 1]!.endMs} ms)`);
  }
  const lastMs = Math.max(hangUpAtMs ?? 0, ...speech.map((s) => s.endMs), ...keys.map((k) => k.atMs));
  if (hangUpAtMs !== undefined && lastMs > hangUpAtMs) throw new ReplayInputError(`timeline: nothing can happen after the caller hangs up at ${hangUpAtMs} ms`);

  const callerAudio = new Uint8Array(Math.round(lastMs * MULAW_BYTES_PER_MS)).fill(MULAW_SILENCE_BYTE);
  for (const { atMs, clip } of speech) callerAudio.set(clip, Math.round(atMs * MULAW_BYTES_PER_MS));

  const model = object(root['model'], 'model');
  const replies = array(model['replies'], 'model.replies').map((item, index) => parseReply(item, `model.replies[${index}]`));
  const description = optionalString(root['description'], 'description');
  const expect = root['expect'] === undefined ? undefined : parseExpectations(root['expect']);
  return {
    name: sources.name,
    ...(description === undefined ? {} : { description }),
    callerNumber: number,
    callerAudio,
    speech: speech.map(({ clip: _, ...rest }) => rest),
    keys,
    hangUpAtMs,
    replies,
    expect,
    expectationsFrom: 'fixture',
  };
}

function parseReply(item: unknown, path: string): ScriptedReply {
  const reply = object(item, path);
  const to = string(reply['to'], `${path}.to`) as CallerTurnKind;
  if (!CALL_KINDS.includes(to)) throw new ReplayInputError(`${path}.to must be one of ${CALL_KINDS.join(', ')} (got "${to}")`);
  const heard = optionalString(reply['heard'], `${path}.heard`);
  const toolCalls =
    reply['toolCalls'] === undefined
      ? undefined
      : array(reply['toolCalls'], `${path}.toolCalls`).map((call, i) => {
          const tool = object(call, `${path}.toolCalls[${i}]`);
          return { name: string(tool['name'], `${path}.toolCalls[${i}].name`), args: tool['args'] === undefined ? {} : object(tool['args'], `${path}.toolCalls[${i}].args`) };
        });
  return { to, text: string(reply['text'], `${path}.text`), ...(heard === undefined ? {} : { heard }), ...(toolCalls === undefined ? {} : { toolCalls }) };
}

function parseExpectations(raw: unknown): ReplayExpectations {
  const expect = object(raw, 'expect');
  const result: ReplayExpectations = {};
  if (expect['transcript'] !== undefined) {
    result.transcript = array(expect['transcript'], 'expect.transcript').map((item, i): ExpectedLine => {
      const line = object(item, `expect.transcript[${i}]`);
      const speaker = string(line['speaker'], `expect.transcript[${i}].speaker`);
      if (speaker !== 'caller' && speaker !== 'agent' && speaker !== 'keypad') throw new ReplayInputError(`expect.transcript[${i}].speaker must be caller, agent or keypad`);
      return { speaker, text: string(line['text'], `expect.transcript[${i}].text`), ...(line['interrupted'] === true ? { interrupted: true } : {}) };
    });
  }
  if (expect['toolCalls'] !== undefined) {
    result.toolCalls = array(expect['toolCalls'], 'expect.toolCalls').map((item, i): ExpectedToolCall => {
      const call = object(item, `expect.toolCalls[${i}]`);
      return {
        name: string(call['name'], `expect.toolCalls[${i}].name`),
        ...(call['args'] === undefined ? {} : { args: call['args'] }),
        ...(call['result'] === undefined ? {} : { result: call['result'] }),
      };
    });
  }
  if (expect['interruptions'] !== undefined) result.interruptions = count(expect['interruptions'], 'expect.interruptions');
  if (expect['endReason'] !== undefined) result.endReason = endReason(expect['endReason']);
  if (expect['maxResponseLatencyMs'] !== undefined) result.maxResponseLatencyMs = time(expect['maxResponseLatencyMs'], 'expect.maxResponseLatencyMs');
  return result;
}

function readClip(dir: string, clip: string): Uint8Array {
  try {
    const bytes = new Uint8Array(readFileSync(join(dir, clip)));
    if (bytes.length === 0) throw new Error('the file is empty');
    return bytes;
  } catch (error) {
    throw new ReplayInputError(`cannot read speech clip ${join(dir, clip)}: ${(error as Error).message}`);
  }
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReplayInputError(`${path} must be an object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ReplayInputError(`${path} must be an array`);
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new ReplayInputError(`${path} must be a string`);
  return value;
}

function endReason(value: unknown): EndReason {
  const reason = asEndReason(string(value, 'expect.endReason'));
  if (reason === undefined) throw new ReplayInputError(`expect.endReason must be one of ${END_REASONS.join(', ')} (got ${JSON.stringify(value)})`);
  return reason;
}

function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : string(value, path);
}

function time(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_FIXTURE_MS) {
    throw new ReplayInputError(`${path} must be a whole number of ms from 0 to ${MAX_FIXTURE_MS}`);
  }
  return value;
}

function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new ReplayInputError(`${path} must be a whole number`);
  return value;
}
