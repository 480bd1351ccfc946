import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../../src/history/call-record.js';
import { callRecordBuilder } from '../../../src/history/record-builder.js';
import { quietCallSummary } from '../../support/call-summary.js';

const CALL = { callSid: `CA${'1'.repeat(32)}`, direction: 'inbound' as const, from: '+14155550123', to: '+14155550100', callerNumber: '+14155550123', agent: 'dental' };

function build(phoneNumbers: 'masked' | 'full' = 'masked') {
  const records: CallRecord[] = [];
  const observe = callRecordBuilder({
    call: CALL,
    channel: 'phone',
    model: 'gemini-3.8-live',
    phoneNumbers,
    maskToolArguments: (_name, args) => ({ ...(args as object), name: '[redacted]' }),
    recording: undefined,
    onRecord: (record) => records.push(record),
    now: () => new Date('2026-12-07T09:00:00Z'),
  });
  return { observe, records };
}

describe('callRecordBuilder', () => {
  it('joins transcript fragments into lines per speaker and turn, and keeps tools, barge-ins and waits in time', () => {
    const { observe, records } = build();
    observe({ type: 'agentTurnStarted', turn: 1 }, 100);
    observe({ type: 'transcript', speaker: 'agent', text: 'Hello, Bright Smile' }, 120);
    observe({ type: 'transcript', speaker: 'agent', text: ' dental, how can I help?' }, 400);
    observe({ type: 'agentTurnEnded', turn: 1, interrupted: false }, 900);
    observe({ type: 'bargeIn', turn: 1, sentMs: 4_000, heardMs: 2_000, heardText: '' }, 2_100);
    observe({ type: 'bargeInTiming', timing: { turn: 1, clearMs: 90 } }, 2_100);
    observe({ type: 'transcript', speaker: 'caller', text: ' I need' }, 2_500);
    observe({ type: 'transcript', speaker: 'caller', text: ' a cleaning' }, 2_900);
    observe({ type: 'toolCall', id: 't1', name: 'book', args: { name: 'Dana', day: 'Monday' } }, 3_000);
    observe({ type: 'toolCall', id: 't2', name: 'book', args: { name: 'Dana', day: 'Tuesday' } }, 3_010);
    observe({ type: 'toolResult', id: 't1', name: 'book', ok: false, durationMs: 1_234.6, response: { error: 'full' } }, 4_235);
    observe({ type: 'toolCancelled', ids: ['t2'] }, 4_300);
    observe({ type: 'turnLatency', latency: { turn: 2, callerStoppedAtMs: 3_100.4, modelMs: 700, heardMs: 950 } }, 4_050);
    observe({ type: 'sessionSwitched', reason: 'handover', switchMs: 412.2, replayedMs: 0, bufferedMs: 0, resumed: true }, 5_000);
    observe({ type: 'ended', reason: 'caller-hung-up', summary: quietCallSummary({ durationMs: 6_000 }) }, 6_000);

    const [record] = records;
    expect(record!.transcript).toEqual([
      { atMs: 120, speaker: 'agent', text: 'Hello, Bright Smile dental, how can I help?' },
      { atMs: 2_500, speaker: 'caller', text: 'I need a cleaning' },
    ]);
    // The turn's words had all arrived before the cut: the share its played audio stands for, to a whole word.
    expect(record!.bargeIns).toEqual([{ atMs: 2_100, turn: 1, sentMs: 4_000, heardMs: 2_000, heardText: 'Hello, Bright Smile', clearMs: 90 }]);
    expect(record!.tools).toEqual([
      { id: 't1', name: 'book', atMs: 3_000, args: { name: '[redacted]', day: 'Monday' }, outcome: 'error', durationMs: 1_235, result: { error: 'full' } },
      { id: 't2', name: 'book', atMs: 3_010, args: { name: '[redacted]', day: 'Tuesday' }, outcome: 'cancelled', durationMs: undefined, result: undefined },
    ]);
    expect(record!.turns).toEqual([{ turn: 2, atMs: 3_100, modelMs: 700, heardMs: 950 }]);
    expect(record!.latency).toEqual({ heardP50Ms: 950, heardP95Ms: 950, modelP50Ms: 700, modelP95Ms: 700 });
    expect(record!.sessionSwitches).toEqual([{ atMs: 5_000, reason: 'handover', switchMs: 412, resumed: true }]);
    expect(record).toMatchObject({ startedAt: '2026-12-07T09:00:00.000Z', endedAt: '2026-12-07T09:00:06.000Z', durationMs: 6_000, from: '+1********23', to: '+1********00', endReason: 'caller-hung-up' });
  });

  it('keeps the numbers in full when configured to', () => {
    const { observe, records } = build('full');
    observe({ type: 'ended', reason: 'agent-hung-up', summary: quietCallSummary() }, 10);
    expect(records[0]).toMatchObject({ from: '+14155550123', to: '+14155550100' });
  });
});
