import { randomBytes } from 'node:crypto';
import type { FunctionResponse } from '@google/genai';
import { DEFAULT_CUES, KEYPAD_TEXT_PREFIX } from '../agents/agent.js';
import { GeminiLiveSession } from '../model/gemini-live-session.js';
import { startFakeGeminiLive, synthesizeSpeech, type FakeGeminiLive, type FakeReply, type FakeSession } from '../local-live/server.js';
import { resample16kTo24k } from './resample-16k-to-24k.js';

/**
 * Local mode's "model": the built-in Live server (src/local-live, written from the public protocol) with a
 * script that exercises everything a real call does, without a Gemini key:
 *
 * - it greets when the call cues it;
 * - after each caller turn it plays the caller's own audio back (16 kHz as received, resampled to the 24 kHz
 *   of model audio), so you hear the whole path: both resamplers and the mu-law codec, twice; then a canned
 *   reply;
 * - on keypad input it calls the agent's tool that takes a `code` argument (if it has one) with the digits, and
 *   speaks what the tool answered;
 * - talking over it interrupts it, through the server's energy VAD, exactly as the real model does.
 *
 * The speech it "says" is synthetic (a buzzing, voice-like signal); the transcript carries the words.
 */

/** A long monologue is echoed only this far, so one turn cannot become a minute of playback. */
export const MAX_ECHO_MS = 8_000;
/** Pause between the echoed caller audio and the canned reply. */
const ECHO_GAP_MS = 250;
const OUTPUT_SAMPLE_RATE_HZ = 24_000;
/** Closed calls whose audio the server keeps (for inspection); older ones are dropped. */
const KEEP_CLOSED_SESSIONS = 10;
export const LOCAL_AGENT_LINES = {
  greeting:
    'Hello! You are talking to the local test agent: no Gemini key is set. Say something and I will play it back to you, then answer. Type a code on the keypad and I will look it up.',
  afterEcho: 'That was your own voice, back through the whole audio path. I am the local test agent; with a Gemini key, the real model answers here.',
  checkIn: 'Are you still there? Say something, or type a code.',
  goodbye: 'Goodbye from the local test agent.',
  other: 'I am the local test agent. Say something, or type a code on the keypad.',
  noCodeTool: 'You typed some keys, but this agent has no tool that takes a code.',
} as const;

/** How long each canned line sounds: short, since the synthetic voice is not words. */
const SPOKEN_MS = { greeting: 2_400, afterEcho: 1_800, short: 1_400, toolAnswer: 2_400 } as const;

export interface LocalAgent {
  /** The built-in Live server; its `sessions` show what the "model" received (tests read them). */
  live: FakeGeminiLive;
  /** Opens calls' model sessions against the local server, with the real SDK. */
  openModel: typeof GeminiLiveSession.open;
  close(): Promise<void>;
}

/** Starts the built-in Live server on an ephemeral loopback port, scripted as the local agent. */
export async function startLocalAgent(): Promise<LocalAgent> {
  // Only our own SDK sessions should talk to it, even on loopback.
  const apiKey = randomBytes(24).toString('base64url');
  const callerTurnAudio = new WeakMap<FakeSession, Map<number, Int16Array>>();
  const live = await startFakeGeminiLive({
    apiKey,
    keepClosedSessions: KEEP_CLOSED_SESSIONS,
    transcribe: ({ audio16k, turnIndex, session }) => {
      let turns = callerTurnAudio.get(session);
      if (turns === undefined) callerTurnAudio.set(session, (turns = new Map()));
      turns.set(turnIndex, audio16k);
      return `(you spoke for ${(audio16k.length / 16_000).toFixed(1)} s)`;
    },
    replies: (context) => {
      if (context.source !== 'audio') return replyToText(context.heardText ?? '', codeToolOf(context.session));
      const audio = callerTurnAudio.get(context.session)?.get(context.turnIndex);
      callerTurnAudio.get(context.session)?.delete(context.turnIndex);
      return echoReply(audio ?? new Int16Array(0));
    },
  });
  return {
    live,
    openModel: (options) => GeminiLiveSession.open({ ...options, auth: { kind: 'api-key', apiKey }, baseUrl: live.baseUrl }),
    close: () => live.close(),
  };
}

/**
 * Text from the call: keypad input, the watchdog's cues, and otherwise a greeting cue (the first text of a
 * call is the agent's greeting, whatever its words).
 */
export function replyToText(text: string, codeTool: string | undefined): FakeReply {
  if (text === DEFAULT_CUES.silenceGoodbye || text === DEFAULT_CUES.maxDurationGoodbye) return spoken(LOCAL_AGENT_LINES.goodbye, SPOKEN_MS.short);
  if (text === DEFAULT_CUES.silenceCheckIn) return spoken(LOCAL_AGENT_LINES.checkIn, SPOKEN_MS.short);
  if (text.startsWith(KEYPAD_TEXT_PREFIX) || text === DEFAULT_CUES.keypadHash) {
    const digits = text.slice(KEYPAD_TEXT_PREFIX.length).replace(/[^0-9*]/g, '');
    if (codeTool === undefined) return spoken(LOCAL_AGENT_LINES.noCodeTool, SPOKEN_MS.short);
    return {
      text: '',
      toolCalls: [{ name: codeTool, args: digits === '' ? {} : { code: digits } }],
      afterToolResponses: (responses) => spoken(describeToolAnswer(responses[0]), SPOKEN_MS.toolAnswer),
    };
  }
  if (text === DEFAULT_CUES.stall || text === DEFAULT_CUES.emptyTurn) return spoken(LOCAL_AGENT_LINES.other, SPOKEN_MS.short);
  return spoken(LOCAL_AGENT_LINES.greeting, SPOKEN_MS.greeting);
}

/** The first tool of the session's setup that takes a `code` argument: what keypad digits go to. */
function codeToolOf(session: FakeSession): string | undefined {
  for (const tool of session.setup?.tools ?? []) {
    for (const declaration of (tool as { functionDeclarations?: Array<{ name?: string; parameters?: unknown }> }).functionDeclarations ?? []) {
      const properties = (declaration.parameters as { properties?: Record<string, unknown> } | undefined)?.properties;
      if (declaration.name !== undefined && properties !== undefined && 'code' in properties) return declaration.name;
    }
  }
  return undefined;
}

/** The caller's turn played back, then the canned line. */
export function echoReply(callerAudio16k: Int16Array): FakeReply {
  const echo = resample16kTo24k(callerAudio16k.subarray(0, (MAX_ECHO_MS * 16_000) / 1000));
  const line = synthesizeSpeech(LOCAL_AGENT_LINES.afterEcho, { msPerChar: msPerChar(LOCAL_AGENT_LINES.afterEcho, SPOKEN_MS.afterEcho) });
  const gap = (ECHO_GAP_MS * OUTPUT_SAMPLE_RATE_HZ) / 1000;
  const audio = new Int16Array(echo.length + gap + line.length);
  audio.set(echo, 0);
  audio.set(line, echo.length + gap);
  return { text: `(your words, played back) ${LOCAL_AGENT_LINES.afterEcho}`, audio };
}

/**
 * What the tool answered, read out: its `summary` or `message` if it has one, else the first text fields of
 * its answer (or its error).
 */
export function describeToolAnswer(answer: FunctionResponse | undefined): string {
  const response = record(answer?.response);
  if (typeof response?.['error'] === 'string') return `The tool said: ${response['error']}`;
  const output = record(response?.['output']);
  // The answer itself, then the objects (or the first item of lists) it holds: where a tool puts its record.
  const layers = output === undefined ? [] : [output, ...Object.values(output).map((value) => record(Array.isArray(value) ? value[0] : value)).filter((v) => v !== undefined)];
  for (const layer of layers) for (const key of ['summary', 'message']) if (typeof layer[key] === 'string') return layer[key] as string;
  const words = layers.flatMap((layer) => Object.values(layer).filter((value): value is string | number => typeof value === 'string' || typeof value === 'number'));
  return words.length === 0 ? 'The tool answered, with nothing I can read out.' : `The tool answered: ${words.slice(0, 5).join(', ')}.`;
}

function spoken(text: string, durationMs: number): FakeReply {
  return { text, audio: synthesizeSpeech(text, { msPerChar: msPerChar(text, durationMs) }) };
}

/** The synthetic voice lasts a time per character: spread `durationMs` over the text. */
function msPerChar(text: string, durationMs: number): number {
  return durationMs / Math.max(1, [...text].length);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

