import { describe, expect, it } from 'vitest';
import { CallEventStream, type CallEvent } from '../../../src/observability/call-events.js';
import { observeCall, type ObservedEvent } from '../../../src/observability/call-observation.js';
import { HeardLatencyTracker, percentile, type BargeInTiming, type TurnLatency } from '../../../src/observability/heard-latency.js';
import { quietCallSummary } from '../../support/call-summary.js';

const FRAME = new Uint8Array(160);

/** A tracker on a clock the test moves; `at(ms, event)` publishes an event at that time. */
function setUp() {
  let nowMs = 0;
  const turns: TurnLatency[] = [];
  const bargeIns: BargeInTiming[] = [];
  const tracker = new HeardLatencyTracker(() => nowMs, { onTurn: (t) => turns.push(t), onBargeIn: (b) => bargeIns.push(b) });
  const at = (ms: number, ...events: CallEvent[]): void => {
    nowMs = ms;
    for (const event of events) tracker.observe(event);
  };
  /** The reply's first audio as the call publishes it: turn start, latency, `frames` 20 ms frames, then a mark. */
  const replyStarts = (ms: number, turn: number, responseMs: number, frames: number): void =>
    at(ms, { type: 'agentTurnStarted', turn }, { type: 'latency', responseMs }, ...Array.from({ length: frames }, () => ({ type: 'agentAudioSent', mulaw: FRAME, turn }) as CallEvent), { type: 'markSent', name: `t${turn}:m1` });
  return { at, replyStarts, turns, bargeIns };
}

describe('HeardLatencyTracker', () => {
  it('measures from the end of speech to the reply playing: its first mark echo less the audio before the mark', () => {
    const { at, replyStarts, turns } = setUp();
    at(1_000, { type: 'callerSpeechEnded', delayMs: 700 });
    // The model's first audio 900 ms after the caller stopped (300 ms after our detector said so).
    replyStarts(1_200, 2, 900, 10);
    at(1_250, { type: 'markSent', name: 't2:m2' });
    // Twilio played the 200 ms batch and echoed its mark 230 ms after it was sent: playback began at 1 230 ms.
    at(1_430, { type: 'agentAudioHeard', mark: 't2:m1' });
    at(1_700, { type: 'agentAudioHeard', mark: 't2:m2' });
    expect(turns).toEqual([{ turn: 2, callerStoppedAtMs: 300, modelMs: 900, heardMs: 930 }]);
  });

  it('takes the turn\'s first audio as the answer when it went out before the call\'s detector was sure the caller stopped', () => {
    const { at, turns } = setUp();
    // The model answered first: its audio (and first mark) went out at 8 830 ms; our detector, waiting out 700 ms
    // of quiet, said the caller stopped (at 8 170 ms) only at 8 870, and the latency came with the next chunk.
    at(8_830, { type: 'agentTurnStarted', turn: 2 }, ...Array.from({ length: 10 }, () => ({ type: 'agentAudioSent', mulaw: FRAME, turn: 2 }) as CallEvent), { type: 'markSent', name: 't2:m1' });
    at(8_880, { type: 'latency', responseMs: 710 }, { type: 'agentAudioSent', mulaw: FRAME, turn: 2 }, { type: 'markSent', name: 't2:m2' });
    at(9_040, { type: 'agentAudioHeard', mark: 't2:m1' });
    expect(turns).toEqual([{ turn: 2, callerStoppedAtMs: 8_170, modelMs: 660, heardMs: 670 }]);

    // A turn that was already playing before the caller stopped is not their answer: its next audio is.
    at(9_500, { type: 'callerSpeechEnded', delayMs: 700 });
    at(9_600, { type: 'latency', responseMs: 700 }, { type: 'agentAudioSent', mulaw: FRAME, turn: 2 }, { type: 'markSent', name: 't2:m3' });
    at(9_700, { type: 'agentAudioHeard', mark: 't2:m3' });
    expect(turns[1]).toEqual({ turn: 2, callerStoppedAtMs: 8_900, modelMs: 700, heardMs: 780 });
  });

  it('gives no heard figure for a reply cut before any of it was confirmed played, nor one still pending at the end', () => {
    const { at, replyStarts, turns } = setUp();
    replyStarts(2_000, 3, 600, 5);
    at(2_050, { type: 'cleared' }, { type: 'agentAudioHeard', mark: 't3:m1' }); // echoed by the clear: discarded, not played
    replyStarts(4_000, 4, 500, 5);
    at(4_100, { type: 'ended', reason: 'caller-hung-up', summary: quietCallSummary() });
    expect(turns).toEqual([
      { turn: 3, callerStoppedAtMs: 1_400, modelMs: 600, heardMs: undefined },
      { turn: 4, callerStoppedAtMs: 3_500, modelMs: 500, heardMs: undefined },
    ]);
  });

  it('times a barge-in from the caller starting to the clear, also when the model heard the caller first', () => {
    const { at, bargeIns } = setUp();
    at(5_000, { type: 'callerSpeechStarted', delayMs: 100 });
    at(5_340, { type: 'bargeIn', turn: 2, sentMs: 3_000, heardMs: 1_200, heardText: 'Our opening' });
    // The model's detection came first: our detector says the caller started 100 ms before it noticed, at 7 900.
    at(7_950, { type: 'callerSpeechEnded', delayMs: 700 });
    at(8_000, { type: 'bargeIn', turn: 3, sentMs: 800, heardMs: 400, heardText: '' });
    at(8_050, { type: 'callerSpeechStarted', delayMs: 100 });
    // A barge-in our detector never confirms is reported without a figure at the end.
    at(8_600, { type: 'callerSpeechEnded', delayMs: 700 });
    at(9_000, { type: 'bargeIn', turn: 4, sentMs: 800, heardMs: 400, heardText: '' });
    at(9_100, { type: 'ended', reason: 'caller-hung-up', summary: quietCallSummary() });
    expect(bargeIns).toEqual([
      { turn: 2, clearMs: 440 },
      { turn: 3, clearMs: 50 },
      { turn: 4, clearMs: undefined },
    ]);
  });
});

describe('observeCall', () => {
  it('stamps events on one clock from the call start and hands the derived latencies to every observer', () => {
    let nowMs = 10_000;
    const seen: Array<[ObservedEvent['type'], number]> = [];
    const listener = observeCall([(event, atMs) => seen.push([event.type, atMs]), () => { throw new Error('a broken observer'); }], () => undefined, () => nowMs);
    nowMs = 10_500;
    listener({ type: 'latency', responseMs: 400 });
    listener({ type: 'markSent', name: 't1:m1' });
    nowMs = 10_700;
    listener({ type: 'agentAudioHeard', mark: 't1:m1' });
    expect(seen).toEqual([['latency', 500], ['markSent', 500], ['agentAudioHeard', 700], ['turnLatency', 700]]);
  });

  it("reads every call event but the caller's audio frames, so a call need not build those for it", () => {
    const stream = new CallEventStream(() => {});
    stream.subscribe(observeCall([], () => undefined));
    expect(stream.wants('callerAudio')).toBe(false);
    for (const type of ['agentAudioSent', 'markSent', 'agentAudioHeard', 'ended'] as const) expect(stream.wants(type)).toBe(true);
  });
});

describe('percentile', () => {
  it('is the nearest-rank figure', () => {
    const values = [900, 100, 500, 300, 700];
    expect(percentile(values, 0.5)).toBe(500);
    expect(percentile(values, 0.95)).toBe(900);
    expect(percentile([], 0.5)).toBeUndefined();
  });
});
