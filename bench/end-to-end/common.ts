/** What the end-to-end benchmark's three processes share: identities, the call script, IPC messages. */
import type { Percentiles } from '../stats.js';

/** The public origin Twilio would sign for; the server listens on loopback. */
export const BENCH_PUBLIC_URL = 'https://bench.example.test';
export const BENCH_ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
export const BENCH_AUTH_TOKEN = '0123456789abcdef0123456789abcdef';
export const BENCH_GEMINI_KEY = 'bench-gemini-key';

/**
 * How every benchmark call behaves. The caller streams 20 ms frames at real time for the whole call
 * (Twilio sends silence too). The agent answers the greeting cue at once and then takes a turn every
 * `cycleMs`: `chunksPerTurn` chunks of 200 ms audio, one every `chunkIntervalMs` (4x faster than real
 * time, as the Live service bursts), `generationComplete`, and `turnComplete` when playback would end.
 * Every second turn is interrupted `interruptAfterMs` into it (`interrupted`, then `turnComplete`).
 */
export interface CallScript {
  chunkMs: number;
  chunksPerTurn: number;
  chunkIntervalMs: number;
  cycleMs: number;
  interruptAfterMs: number;
}

export const FULL_SCRIPT: CallScript = { chunkMs: 200, chunksPerTurn: 10, chunkIntervalMs: 50, cycleMs: 4000, interruptAfterMs: 1000 };
/** Shorter turns so a two-second smoke window still sees every kind of event. */
export const SMOKE_SCRIPT: CallScript = { chunkMs: 200, chunksPerTurn: 3, chunkIntervalMs: 50, cycleMs: 800, interruptAfterMs: 400 };

/** Mu-law bytes (8 kHz) of one agent chunk as the caller hears it. */
export const chunkMulawBytes = (script: CallScript): number => script.chunkMs * 8;

export interface EventLoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Garbage-collection pauses of a process over a window (every kind: scavenges, mark-compacts, incremental steps). */
export interface GcPauses {
  count: number;
  maxMs: number;
  totalMs: number;
}

export interface CpuWindow {
  wallMs: number;
  cpuMs: number;
  /** cpuMs / wallMs: how many cores the process kept busy. */
  cores: number;
}

// ── server child ──────────────────────────────────────────────────────────────────────────────

export type ServerCommand =
  | { type: 'window-start' }
  | { type: 'window-end' }
  /** `settle` (default true): collect garbage first, for live memory rather than a moment's peak. */
  | { type: 'memory'; settle?: boolean }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string }
  | { type: 'stop' };

export interface ServerMemory {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  activeCalls: number;
}

export type ServerReply =
  | { type: 'ready'; url: string }
  | { type: 'window'; cpu: CpuWindow; eventLoopDelay: EventLoopDelay; gcPauses: GcPauses; activeCalls: number }
  | { type: 'memory'; memory: ServerMemory }
  | { type: 'profile-started' }
  | { type: 'profile-stopped'; file: string }
  | { type: 'error'; message: string };

// ── load generator ───────────────────────────────────────────────────────────────────────────

export type LoadCommand =
  | { type: 'ramp'; serverUrl: string; calls: number; script: CallScript }
  | { type: 'window-start' }
  | { type: 'window-end'; graceMs: number }
  | { type: 'hangup' }
  | { type: 'exit' };

export interface RampResult {
  callsUp: number;
  failures: number;
  firstError: string | undefined;
  rampMs: number;
}

export interface WindowResult {
  /** Caller frame sent by Twilio -> the matching realtimeInput audio at the Live server. */
  callerToModelMs: Percentiles;
  /** Live audio chunk sent -> its first 20 ms media frame at Twilio. */
  modelToCallerMs: Percentiles;
  /** Live `interrupted` sent -> Twilio receives `clear`. */
  interruptedToClearMs: Percentiles;
  /** Twilio `start` sent -> first agent media frame (over every call of the level, measured during the ramp). */
  streamStartToFirstAudioMs: Percentiles;
  cpu: CpuWindow;
  eventLoopDelay: EventLoopDelay;
  /** Frames sent in the window that never reached the Live server by the window's end (should be 0). */
  callerFramesMissing: number;
  /** Messages that failed the sampled protocol checks (should be 0). */
  protocolViolations: number;
  firstViolation: string | undefined;
}

export interface HangupResult {
  /** Calls whose agent audio was not exactly the mu-law bytes of the chunks sent (should be 0). */
  frameCountMismatches: number;
  sessionsStillOpen: number;
}

export type LoadReply =
  | { type: 'ready'; liveUrl: string }
  | { type: 'ramped'; result: RampResult }
  | { type: 'window-started' }
  | { type: 'window'; result: WindowResult }
  | { type: 'hung-up'; result: HangupResult }
  | { type: 'error'; message: string };

const EQUALS = 0x3d;

/** Bytes that the `chars` base64 characters of `data` from `start` decode to. */
export function base64Length(data: Buffer, start: number, chars: number): number {
  if (chars <= 0) return 0;
  const padding = data[start + chars - 1] === EQUALS ? (data[start + chars - 2] === EQUALS ? 2 : 1) : 0;
  return (chars / 4) * 3 - padding;
}

/** The bytes of the base64 string value that follows `key` (e.g. `"payload":"`) in a JSON message, read without parsing it. */
export function base64ValueLength(data: Buffer, key: Buffer): number {
  const start = data.indexOf(key);
  if (start === -1) return 0;
  const valueStart = start + key.length;
  return base64Length(data, valueStart, data.indexOf(0x22, valueStart) - valueStart);
}
