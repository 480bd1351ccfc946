import { describe, expect, it } from 'vitest';
import { KEYPAD_TEXT_PREFIX } from '../../../src/agents/agent.js';
import { RECORDING_FORMAT, RECORDING_FORMAT_VERSION, type RecordingLog } from '../../../src/recording/recording-format.js';
import { checkExpectations, matchesSubset } from '../../../src/replay/expectations.js';
import { parseCallFixture } from '../../../src/replay/fixture.js';
import { scenarioFromRecording } from '../../../src/replay/from-recording.js';
import { ModelScript } from '../../../src/replay/model-script.js';
import { outputPaths, withArgumentsAsSent } from '../../../src/replay/replay.js';
import type { ReplayReport } from '../../../src/replay/report.js';
import { ReplayInputError } from '../../../src/replay/scenario.js';

const CLIP = new Uint8Array(800).fill(0x10); // 100 ms of "speech"
const sources = { name: 'test', readClip: () => CLIP };

function fixture(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    caller: { number: '+14155550123' },
    timeline: [
      { atMs: 1_000, say: 'hello.ulaw', text: 'Hello' },
      { atMs: 2_000, keys: '12#' },
      { atMs: 3_000, hangUp: true },
    ],
    model: { replies: [{ to: 'cue', text: 'Hi!' }] },
    ...overrides,
  };
}

describe('call fixtures', () => {
  it('lay the caller channel out on the timeline: clips at their times, silence between, keys one by one', () => {
    const scenario = parseCallFixture(fixture(), sources);
    expect(scenario.callerAudio.length).toBe(3_000 * 8);
    expect(scenario.callerAudio[1_000 * 8 - 1]).toBe(0xff);
    expect(scenario.callerAudio.subarray(1_000 * 8, 1_100 * 8).every((b) => b === 0x10)).toBe(true);
    expect(scenario.callerAudio[1_100 * 8]).toBe(0xff);
    expect(scenario.keys).toEqual([
      { atMs: 2_000, digit: '1' },
      { atMs: 2_250, digit: '2' },
      { atMs: 2_500, digit: '#' },
    ]);
    expect(scenario).toMatchObject({ callerNumber: '+14155550123', hangUpAtMs: 3_000, speech: [{ atMs: 1_000, endMs: 1_100, text: 'Hello' }], expectationsFrom: 'fixture' });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['not an object', { model: 'x' }, /model must be an object/],
    ['a bad number', { caller: { number: '4155550123' } }, /caller\.number must be E\.164/],
    ['two actions in one', { timeline: [{ atMs: 0, say: 'a.ulaw', keys: '1' }] }, /exactly one of/],
    ['a clip outside the fixture', { timeline: [{ atMs: 0, say: '../../etc/passwd' }] }, /must name a \.ulaw file/],
    ['keys that are not keys', { timeline: [{ atMs: 0, keys: '12a' }] }, /keypad keys/],
    ['a negative time', { timeline: [{ atMs: -5, hangUp: true }] }, /atMs must be a whole number/],
    ['overlapping speech', { timeline: [{ atMs: 0, say: 'a.ulaw' }, { atMs: 50, say: 'b.ulaw' }] }, /overlaps/],
    ['actions after hanging up', { timeline: [{ atMs: 100, hangUp: true }, { atMs: 200, keys: '1' }] }, /after the caller hangs up/],
    ['an unknown reply kind', { model: { replies: [{ to: 'dtmf', text: 'x' }] } }, /replies\[0\]\.to must be one of/],
    ['a bad expectation', { expect: { transcript: [{ speaker: 'robot', text: 'x' }] } }, /speaker must be caller, agent or keypad/],
  ])('refuse %s with a message naming the field', (_, overrides, message) => {
    expect(() => parseCallFixture(fixture(overrides), sources)).toThrow(ReplayInputError);
    expect(() => parseCallFixture(fixture(overrides), sources)).toThrow(message);
  });

  it('refuse what is not JSON structure at all', () => {
    for (const raw of [null, 42, 'call', []]) expect(() => parseCallFixture(raw, sources)).toThrow(ReplayInputError);
  });
});

describe('ModelScript', () => {
  it('answers each kind of caller turn with the next reply of that kind, and notes what it could not answer', () => {
    const script = new ModelScript([
      { to: 'cue', text: 'Hello' },
      { to: 'speech', heard: 'I need my code', text: 'Key it in' },
      { to: 'keypad', toolCalls: [{ name: 'find_booking', args: { code: '$digits', nested: ['$digits'] } }], text: 'Found' },
      { to: 'speech', text: 'Never said' },
    ]);
    expect(script.reply({ kind: 'text', text: 'The phone call has just been connected.', index: 0 })).toEqual({ text: 'Hello' });
    expect(script.reply({ kind: 'speech', durationMs: 1_200, audio: new Int16Array(19_200), index: 1 })).toEqual({ text: 'Key it in', heard: 'I need my code' });
    expect(script.reply({ kind: 'text', text: `${KEYPAD_TEXT_PREFIX} 5 7 7 2 6 9`, index: 2 })).toEqual({
      text: 'Found',
      toolCalls: [{ name: 'find_booking', args: { code: '577269', nested: ['577269'] } }],
    });
    expect(script.reply({ kind: 'text', text: 'Are you still there?', index: 3 })).toBeUndefined();
    expect(script.notes()).toEqual([
      'caller turn 4 (cue: "Are you still there?") had no scripted reply, so the model said nothing',
      'the scripted reply to speech "Never said" was never used',
    ]);
  });
});

function report(overrides: Partial<ReplayReport> = {}): ReplayReport {
  return {
    name: 't',
    callSid: 'CA',
    durationMs: 10_000,
    endReason: 'caller-hung-up',
    transcript: [
      { atMs: 100, speaker: 'agent', text: 'Hello there' },
      { atMs: 900, speaker: 'agent', text: 'Let me tell you', interrupted: true },
      { atMs: 1_200, speaker: 'keypad', text: '42#' },
    ],
    toolCalls: [{ atMs: 1_300, name: 'find_booking', args: { code: '42' }, result: { output: { found: true, booking: { guestName: 'Dana', partySize: 4 } } } }],
    interruptions: [{ atMs: 950, agentTurn: 2 }],
    latencies: [{ agentTurn: 2, respondsTo: 'speech', latencyMs: 900 }],
    notes: [],
    recording: undefined,
    ...overrides,
  };
}

describe('checkExpectations', () => {
  it('passes a call that went as expected; a cut-off line matches any beginning of what it would have said', () => {
    expect(
      checkExpectations(report(), {
        transcript: [
          { speaker: 'agent', text: 'Hello there' },
          { speaker: 'agent', text: 'Let me tell you about our evenings', interrupted: true },
          { speaker: 'keypad', text: '42#' },
        ],
        toolCalls: [{ name: 'find_booking', args: { code: '42' }, result: { output: { booking: { guestName: 'Dana' } } } }],
        interruptions: 1,
        endReason: 'caller-hung-up',
        maxResponseLatencyMs: 1_000,
      }),
    ).toEqual([]);
  });

  it('names every difference', () => {
    const problems = checkExpectations(report(), {
      transcript: [
        { speaker: 'agent', text: 'Hello' },
        { speaker: 'agent', text: 'Something else', interrupted: true },
      ],
      toolCalls: [{ name: 'find_booking', result: { output: { found: false } } }, { name: 'end_call' }],
      interruptions: 0,
      endReason: 'agent-hung-up',
      maxResponseLatencyMs: 500,
    });
    expect(problems).toEqual([
      'transcript line 1: expected agent: "Hello", got agent: "Hello there"',
      'transcript line 2: expected agent: "Something else" (cut off), got agent: "Let me tell you" (cut off)',
      'transcript line 3: expected (no line), got keypad: "42#"',
      'expected 2 tool calls (find_booking, end_call), got 1 (find_booking)',
      'tool call 1 (find_booking): answer {"output":{"found":true,"booking":{"guestName":"Dana","partySize":4}}} does not match {"output":{"found":false}}',
      'expected 0 interruptions, got 1',
      'expected the call to end with agent-hung-up, it ended with caller-hung-up',
      "agent turn 2 answered the caller's speech after 900 ms (at most 500 ms expected)",
    ]);
  });

  it('matches subsets: objects by the fields given, arrays element by element', () => {
    expect(matchesSubset({ a: 1 }, { a: 1, b: 2 })).toBe(true);
    expect(matchesSubset({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2, d: 3 }] } })).toBe(true);
    expect(matchesSubset([1], [1, 2])).toBe(false);
    expect(matchesSubset({ a: 1 }, null)).toBe(false);
    expect(matchesSubset({ a: undefined }, {})).toBe(true);
    expect(matchesSubset('x', 'y')).toBe(false);
  });
});

describe('a recording as a replay', () => {
  it('rebuilds the model script from the agent turns and what came before each', () => {
    const log: RecordingLog = {
      format: RECORDING_FORMAT,
      version: RECORDING_FORMAT_VERSION,
      callSid: `CA${'c'.repeat(32)}`,
      streamSid: `MZ${'d'.repeat(32)}`,
      from: '+1********23',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:10.000Z',
      endReason: 'caller-hung-up',
      durationMs: 10_000,
      audio: { file: 'x.wav', sampleRateHz: 8_000, channels: ['caller', 'agent'], frames: 80_000, truncated: false, playoutLagMs: 0 },
      events: [
        { type: 'callerSpeech', atMs: 2_000, endMs: 3_000 },
        { type: 'transcript', atMs: 3_500, speaker: 'caller', text: 'My code please' },
        { type: 'keypad', atMs: 6_000, digit: '4' },
        { type: 'keypad', atMs: 6_250, digit: '#' },
        { type: 'textToModel', atMs: 6_250, text: `${KEYPAD_TEXT_PREFIX} 4` },
        { type: 'toolCall', atMs: 6_400, id: 'f1', name: 'find_booking', args: { code: '4' } },
        { type: 'interrupted', atMs: 7_000, agentTurn: 3 },
        { type: 'toolCall', atMs: 9_000, id: 'f2', name: 'end_call', args: {} },
      ],
      agentTurns: [
        { turn: 1, startedAtMs: 300, sentMs: 1_000, heardMs: 1_000, interrupted: false, text: 'Hello' },
        { turn: 2, startedAtMs: 3_700, sentMs: 1_000, heardMs: 1_000, interrupted: false, text: 'Key it in' },
        { turn: 3, startedAtMs: 6_600, sentMs: 1_000, heardMs: 400, interrupted: true, text: 'Found it, a table' },
      ],
      summary: {},
    };
    const scenario = scenarioFromRecording(log, new Uint8Array(80_000).fill(0xff), 'call');
    expect(scenario.replies).toEqual([
      { to: 'cue', text: 'Hello' },
      { to: 'speech', heard: 'My code please', text: 'Key it in' },
      { to: 'keypad', toolCalls: [{ name: 'find_booking', args: { code: '4' } }], text: 'Found it, a table' },
      { to: 'cue', toolCalls: [{ name: 'end_call', args: {} }], text: '' },
    ]);
    expect(scenario.keys).toEqual([
      { atMs: 6_000, digit: '4' },
      { atMs: 6_250, digit: '#' },
    ]);
    expect(scenario).toMatchObject({ hangUpAtMs: 10_000, expectationsFrom: 'recording', expect: { interruptions: 1, endReason: 'caller-hung-up' } });
    expect(scenario.expect?.toolCalls?.map((call) => call.name)).toEqual(['find_booking', 'end_call']);
  });
});

describe('the replay output', () => {
  it('never replaces the recording it replays', () => {
    expect(outputPaths('data/replays', 'CA1', [])).toEqual({ wav: 'data/replays/CA1.wav', json: 'data/replays/CA1.json' });
    expect(outputPaths('data/replays', 'CA1', ['data/replays/CA1.json', './data/replays/CA1.wav'])).toEqual({ wav: 'data/replays/CA1.replay.wav', json: 'data/replays/CA1.replay.json' });
    expect(outputPaths('out', 'x', ['out/x.json', 'out/x.replay.json']).json).toBe('out/x.replay-2.json');
  });

  it('reports the tool arguments the model sent where the recording masked them, call by call', () => {
    const log = {
      events: [
        { type: 'toolCall', atMs: 1, id: 'a', name: 'find_booking', args: { code: '[redacted]' } },
        { type: 'toolCall', atMs: 2, id: 'b', name: 'end_call', args: {} },
      ],
    } as unknown as RecordingLog;
    const made = [
      { name: 'find_booking', args: { code: 'K7Q2M9' } },
      { name: 'end_call', args: {} },
    ];
    expect(withArgumentsAsSent(log, made).events.map((event) => (event as { args: unknown }).args)).toEqual([{ code: 'K7Q2M9' }, {}]);
    expect(log.events[0]).toMatchObject({ args: { code: '[redacted]' } }); // the recording itself is left as it is
  });
});
