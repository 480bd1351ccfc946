import type { CallRecord } from '../../src/history/call-record.js';
import { quietCallSummary } from './call-summary.js';

let sequence = 0;

/** A finished call's history record; `overrides` set what a test looks at. */
export function sampleCallRecord(overrides: Partial<CallRecord> = {}): CallRecord {
  sequence++;
  const callSid = `CA${sequence.toString(16).padStart(32, '0')}`;
  return {
    callSid,
    agent: 'dental',
    direction: 'inbound',
    channel: 'phone',
    model: 'gemini-3.8-live',
    from: '+1********23',
    to: '+1********00',
    startedAt: '2026-12-01T10:00:00.000Z',
    endedAt: '2026-12-01T10:01:00.000Z',
    durationMs: 60_000,
    endReason: 'caller-hung-up',
    transcript: [{ atMs: 500, speaker: 'agent', text: 'Hello, Bright Smile dental.' }],
    tools: [],
    bargeIns: [],
    turns: [],
    latency: { heardP50Ms: undefined, heardP95Ms: undefined, modelP50Ms: undefined, modelP95Ms: undefined },
    sessionSwitches: [],
    recording: undefined,
    summary: quietCallSummary({ durationMs: 60_000 }),
    ...overrides,
  };
}
