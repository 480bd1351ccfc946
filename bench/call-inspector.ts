/**
 * The call inspector with a long call: the waveform of a recording drawn from server-side peaks (read in chunks),
 * and the history's write and read of the call's record. A 30-minute stereo recording is 58 MB; the page gets a
 * few thousand points.
 */
import { mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CallRecord } from '../src/history/call-record.js';
import { HistoryStore } from '../src/history/history-store.js';
import { waveformOfFile } from '../src/history/waveform.js';
import { pcm16WavHeader } from '../src/recording/wav.js';
import { quietCallSummary } from '../test/support/call-summary.js';
import { median, round } from './stats.js';

export interface CallInspectorOptions {
  callMinutes: number;
  points: number;
  runs: number;
}

export const FULL_CALL_INSPECTOR_OPTIONS: CallInspectorOptions = { callMinutes: 30, points: 1_200, runs: 5 };
export const SMOKE_CALL_INSPECTOR_OPTIONS: CallInspectorOptions = { callMinutes: 0.5, points: 200, runs: 1 };

export interface CallInspectorResult {
  callMinutes: number;
  wavMegabytes: number;
  points: number;
  /** Reading the WAV and computing the peaks, median of `runs`. */
  waveformMs: number;
  /** Heap and RSS growth while doing so (the file is streamed, never held whole). */
  waveformHeapGrowthMiB: number;
  waveformJsonKiB: number;
  /** A record of the call (a line every 6 s, a tool call a minute) written to and read from SQLite. */
  recordKiB: number;
  historyInsertMs: number;
  historyGetMs: number;
}

const SAMPLE_RATE_HZ = 8_000;
const CHUNK_FRAMES = 8_000;

export async function measureCallInspector(options: CallInspectorOptions): Promise<CallInspectorResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-inspector-'));
  try {
    const wav = join(dir, 'call.wav');
    writeLongCall(wav, options.callMinutes);
    const times: number[] = [];
    let heapGrowth = 0;
    let json = '';
    for (let run = 0; run < options.runs; run++) {
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      json = JSON.stringify(await waveformOfFile(wav, options.points));
      times.push(performance.now() - started);
      heapGrowth = Math.max(heapGrowth, process.memoryUsage().heapUsed - heapBefore);
    }
    const record = longCallRecord(options.callMinutes);
    const store = new HistoryStore({ sqliteFile: join(dir, 'history.sqlite') });
    await store.insert({ ...record, callSid: `CA${'0'.repeat(32)}` }); // creates the table
    const insertStarted = performance.now();
    await store.insert(record);
    const historyInsertMs = performance.now() - insertStarted;
    const getStarted = performance.now();
    await store.get(record.callSid);
    const historyGetMs = performance.now() - getStarted;
    await store.close();
    return {
      callMinutes: options.callMinutes,
      wavMegabytes: round(statSync(wav).size / 1e6, 1),
      points: options.points,
      waveformMs: round(median(times), 1),
      waveformHeapGrowthMiB: round(heapGrowth / 2 ** 20, 1),
      waveformJsonKiB: round(json.length / 1024, 1),
      recordKiB: round(JSON.stringify(record).length / 1024, 1),
      historyInsertMs: round(historyInsertMs, 2),
      historyGetMs: round(historyGetMs, 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A stereo 8 kHz recording of `minutes`: speech-like bursts on alternating channels. */
function writeLongCall(file: string, minutes: number): void {
  const frames = Math.round(minutes * 60 * SAMPLE_RATE_HZ);
  const fd = openSync(file, 'w');
  writeSync(fd, pcm16WavHeader({ sampleRateHz: SAMPLE_RATE_HZ, channels: 2 }, frames));
  const chunk = Buffer.alloc(CHUNK_FRAMES * 4);
  for (let start = 0; start < frames; start += CHUNK_FRAMES) {
    const count = Math.min(CHUNK_FRAMES, frames - start);
    const callerTalks = Math.floor(start / (SAMPLE_RATE_HZ * 4)) % 2 === 0;
    for (let i = 0; i < count; i++) {
      const sample = Math.round(Math.sin((start + i) * 0.07) * 8_000 * Math.sin((start + i) / 900));
      chunk.writeInt16LE(callerTalks ? sample : 0, i * 4);
      chunk.writeInt16LE(callerTalks ? 0 : sample, i * 4 + 2);
    }
    writeSync(fd, chunk, 0, count * 4);
  }
  closeSync(fd);
}

function longCallRecord(minutes: number): CallRecord {
  const durationMs = Math.round(minutes * 60_000);
  const lines = Math.floor(durationMs / 6_000);
  return {
    callSid: `CA${'1'.repeat(32)}`,
    agent: 'bench',
    direction: 'inbound',
    channel: 'phone',
    model: 'gemini-3.8-live',
    from: '+1********23',
    to: '+1********00',
    startedAt: new Date(0).toISOString(),
    endedAt: new Date(durationMs).toISOString(),
    durationMs,
    endReason: 'caller-hung-up',
    transcript: Array.from({ length: lines }, (_, n) => ({ atMs: n * 6_000, speaker: n % 2 === 0 ? 'caller' : 'agent', text: 'A sentence of about the length people say on the phone, give or take.' })),
    tools: Array.from({ length: Math.floor(minutes) }, (_, n) => ({ id: `t${n}`, name: 'find_booking', atMs: n * 60_000, args: { code: '[redacted]' }, outcome: 'ok', durationMs: 120, result: { output: { found: true } } })),
    bargeIns: [],
    turns: Array.from({ length: Math.floor(lines / 2) }, (_, n) => ({ turn: n + 1, atMs: n * 12_000, modelMs: 700, heardMs: 900 })),
    latency: { heardP50Ms: 900, heardP95Ms: 900, modelP50Ms: 700, modelP95Ms: 700 },
    sessionSwitches: [],
    recording: { wav: 'x.wav', events: 'x.json' },
    summary: quietCallSummary({ durationMs }),
  };
}
