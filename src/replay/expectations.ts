import type { ReplayReport, TranscriptLine } from './report.js';
import type { ExpectedLine, ReplayExpectations } from './scenario.js';

/** Where a replayed call differs from what was expected; empty when it went as expected. */
export function checkExpectations(report: ReplayReport, expect: ReplayExpectations): string[] {
  const problems: string[] = [];
  if (expect.transcript !== undefined) problems.push(...checkTranscript(report.transcript, expect.transcript));

  if (expect.toolCalls !== undefined) {
    const actual = report.toolCalls;
    if (actual.length !== expect.toolCalls.length) {
      problems.push(`expected ${expect.toolCalls.length} tool calls (${expect.toolCalls.map((c) => c.name).join(', ') || 'none'}), got ${actual.length} (${actual.map((c) => c.name).join(', ') || 'none'})`);
    }
    expect.toolCalls.forEach((expected, index) => {
      const call = actual[index];
      if (call === undefined) return;
      const label = `tool call ${index + 1} (${expected.name})`;
      if (call.name !== expected.name) problems.push(`${label}: the model called ${call.name}`);
      if (expected.args !== undefined && !matchesSubset(expected.args, call.args)) problems.push(`${label}: arguments ${JSON.stringify(call.args)} do not match ${JSON.stringify(expected.args)}`);
      if (expected.result !== undefined && !matchesSubset(expected.result, call.result)) {
        problems.push(`${label}: answer ${call.result === undefined ? '(none)' : JSON.stringify(call.result)} does not match ${JSON.stringify(expected.result)}`);
      }
    });
  }

  if (expect.interruptions !== undefined && report.interruptions.length !== expect.interruptions) {
    problems.push(`expected ${expect.interruptions} interruptions, got ${report.interruptions.length}`);
  }
  if (expect.endReason !== undefined && report.endReason !== expect.endReason) problems.push(`expected the call to end with ${expect.endReason}, it ended with ${report.endReason}`);
  if (expect.maxResponseLatencyMs !== undefined) {
    for (const { agentTurn, latencyMs, respondsTo } of report.latencies) {
      if (latencyMs > expect.maxResponseLatencyMs) problems.push(`agent turn ${agentTurn} answered the caller's ${respondsTo} after ${latencyMs} ms (at most ${expect.maxResponseLatencyMs} ms expected)`);
    }
  }
  return problems;
}

function checkTranscript(actual: readonly TranscriptLine[], expected: readonly ExpectedLine[]): string[] {
  const problems: string[] = [];
  const count = Math.max(actual.length, expected.length);
  for (let i = 0; i < count; i++) {
    const want = expected[i];
    const got = actual[i];
    if (want !== undefined && got !== undefined && lineMatches(got, want)) continue;
    problems.push(`transcript line ${i + 1}: expected ${want === undefined ? '(no line)' : describe(want)}, got ${got === undefined ? '(no line)' : describe(got)}`);
  }
  return problems;
}

function lineMatches(got: TranscriptLine, want: ExpectedLine): boolean {
  if (got.speaker !== want.speaker || (got.interrupted === true) !== (want.interrupted === true)) return false;
  // A cut-off agent's transcript ends wherever the model was interrupted: any non-empty beginning will do.
  if (want.interrupted === true) return got.text !== '' && want.text.startsWith(got.text);
  return got.text === want.text;
}

function describe(line: { speaker: string; text: string; interrupted?: boolean }): string {
  return `${line.speaker}: "${line.text}"${line.interrupted ? ' (cut off)' : ''}`;
}

/** True when every field of `expected` is in `actual` with a matching value (arrays: same length, element by element). */
export function matchesSubset(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => matchesSubset(item, actual[i]));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, value]) => matchesSubset(value, (actual as Record<string, unknown>)[key]));
  }
  return Object.is(expected, actual);
}
