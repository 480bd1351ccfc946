import type { EndReason } from '../domain/end-reasons.js';
import { KEYPAD_PAUSE_MS } from '../call/call-tools.js';
import type { RecordingEvent, RecordingLog } from '../recording/recording-format.js';
import type { ReplayScenario } from './scenario.js';

export interface TranscriptLine {
  atMs: number;
  speaker: 'caller' | 'agent' | 'keypad';
  text: string;
  interrupted?: boolean;
}

export interface ToolCallLine {
  atMs: number;
  name: string;
  args: unknown;
  /** What the model was answered (`{ output }` or `{ error }`); absent if it never was (cancelled, call ended). */
  result?: unknown;
  answeredAfterMs?: number;
}

export interface InterruptionLine {
  atMs: number;
  agentTurn: number;
  sentMs?: number;
  heardMs?: number;
}

export interface LatencyLine {
  agentTurn: number;
  respondsTo: 'speech' | 'keypad';
  latencyMs: number;
}

/** What happened in a replayed call, read from the recording the server made of it. */
export interface ReplayReport {
  name: string;
  description?: string;
  callSid: string;
  durationMs: number;
  endReason: EndReason;
  transcript: TranscriptLine[];
  toolCalls: ToolCallLine[];
  interruptions: InterruptionLine[];
  latencies: LatencyLine[];
  /** Where the replay left the script: caller turns without a reply, replies never used. */
  notes: string[];
  recording: { wav: string; json: string } | undefined;
}

export function buildReport(scenario: ReplayScenario, log: RecordingLog, notes: string[], recording: ReplayReport['recording']): ReplayReport {
  const events = log.events;
  const transcript: TranscriptLine[] = [];
  for (const event of events) {
    if (event.type === 'transcript') transcript.push({ atMs: event.atMs, speaker: event.speaker, text: event.text, ...(event.interrupted ? { interrupted: true } : {}) });
  }
  transcript.push(...keypadLines(events));
  transcript.sort((a, b) => a.atMs - b.atMs);

  const results = new Map<string, { atMs: number; response: unknown }>();
  for (const event of events) if (event.type === 'toolResult') results.set(event.id, { atMs: event.atMs, response: event.response });
  const toolCalls = events.flatMap((event): ToolCallLine[] => {
    if (event.type !== 'toolCall') return [];
    const result = results.get(event.id);
    return [{ atMs: event.atMs, name: event.name, args: event.args, ...(result === undefined ? {} : { result: result.response, answeredAfterMs: result.atMs - event.atMs }) }];
  });

  const interruptions = events.flatMap((event): InterruptionLine[] =>
    event.type === 'interrupted'
      ? [{ atMs: event.atMs, agentTurn: event.agentTurn, ...(event.sentMs === undefined ? {} : { sentMs: event.sentMs }), ...(event.heardMs === undefined ? {} : { heardMs: event.heardMs }) }]
      : [],
  );
  const latencies = log.agentTurns.flatMap((turn): LatencyLine[] =>
    turn.latencyMs === undefined || turn.respondsTo === undefined ? [] : [{ agentTurn: turn.turn, respondsTo: turn.respondsTo, latencyMs: turn.latencyMs }],
  );
  return {
    name: scenario.name,
    ...(scenario.description === undefined ? {} : { description: scenario.description }),
    callSid: log.callSid,
    durationMs: log.durationMs,
    endReason: log.endReason,
    transcript,
    toolCalls,
    interruptions,
    latencies,
    notes,
    recording,
  };
}

/** Key presses as the caller would tell them: one line per run of keys (a pause or `#` ends a run). */
function keypadLines(events: RecordingEvent[]): TranscriptLine[] {
  const lines: TranscriptLine[] = [];
  let current: TranscriptLine | undefined;
  let lastAtMs = 0;
  for (const event of events) {
    if (event.type !== 'keypad') continue;
    if (current === undefined || event.atMs - lastAtMs >= KEYPAD_PAUSE_MS || current.text.endsWith('#')) {
      current = { atMs: event.atMs, speaker: 'keypad', text: '' };
      lines.push(current);
    }
    current.text += event.digit;
    lastAtMs = event.atMs;
  }
  return lines;
}

export function formatReport(report: ReplayReport, problems: readonly string[], expectationsFrom: ReplayScenario['expectationsFrom'] | undefined): string {
  const out: string[] = [];
  out.push(`Replay: ${report.name}${report.description === undefined ? '' : ` — ${report.description}`}`);
  out.push(`Call ${report.callSid}: ${seconds(report.durationMs)}, ended: ${report.endReason}`);

  out.push('', 'Transcript');
  if (report.transcript.length === 0) out.push('  (nothing was said)');
  for (const line of report.transcript) {
    out.push(`  ${seconds(line.atMs).padStart(8)}  ${line.speaker.padEnd(6)}  ${line.text}${line.interrupted ? '  [cut off]' : ''}`);
  }

  out.push('', 'Tool calls');
  if (report.toolCalls.length === 0) out.push('  (none)');
  for (const call of report.toolCalls) {
    const answer = call.result === undefined ? 'no answer' : `${truncate(JSON.stringify(call.result), 160)} (${call.answeredAfterMs} ms)`;
    out.push(`  ${seconds(call.atMs).padStart(8)}  ${call.name}(${truncate(JSON.stringify(call.args), 80)}) → ${answer}`);
  }

  out.push('', 'Interruptions');
  if (report.interruptions.length === 0) out.push('  (none)');
  for (const cut of report.interruptions) {
    const heard = cut.heardMs === undefined ? '' : `, the caller heard ${seconds(cut.heardMs)} of ${seconds(cut.sentMs ?? 0)} sent`;
    out.push(`  ${seconds(cut.atMs).padStart(8)}  agent turn ${cut.agentTurn} cut off${heard}`);
  }

  out.push('', "Response latency (end of the caller's speech or key press → first agent audio heard)");
  if (report.latencies.length === 0) out.push('  (no agent turn answered the caller)');
  for (const latency of report.latencies) out.push(`  agent turn ${String(latency.agentTurn).padEnd(3)} after ${latency.respondsTo.padEnd(6)}  ${latency.latencyMs} ms`);
  if (report.latencies.length > 1) {
    const sorted = report.latencies.map((l) => l.latencyMs).sort((a, b) => a - b);
    out.push(`  median ${sorted[Math.floor((sorted.length - 1) / 2)]} ms, max ${sorted.at(-1)} ms`);
  }

  if (report.notes.length > 0) out.push('', 'Notes', ...report.notes.map((note) => `  - ${note}`));
  if (report.recording !== undefined) out.push('', `Recording: ${report.recording.wav} (8 kHz stereo: caller left, agent right)`, `Event log: ${report.recording.json}`);
  if (expectationsFrom !== undefined) {
    const against = expectationsFrom === 'fixture' ? 'Expectations' : 'Compared with the recorded call';
    out.push('', problems.length === 0 ? `${against}: all met` : `${against}: ${problems.length} ${problems.length === 1 ? 'difference' : 'differences'}`);
    for (const problem of problems) out.push(`  ✗ ${problem}`);
  }
  return out.join('\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
