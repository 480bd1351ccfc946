import { describe, expect, it } from 'vitest';
import type { EndReason } from '../../../src/domain/end-reasons.js';
import type { CallEvent, CallSummary } from '../../../src/observability/call-events.js';
import { mulawDecodeSample } from '../../../src/audio/mulaw.js';
import { CallRecorder, type FinishedRecording } from '../../../src/recording/call-recorder.js';
import { parseRecordingLog, type RecordingEvent } from '../../../src/recording/recording-format.js';
import { quietCallSummary } from '../../support/call-summary.js';
import { capturingLogger } from '../../support/log-capture.js';

const CALL_SID = `CA${'1'.repeat(32)}`;
const STREAM_SID = `MZ${'2'.repeat(32)}`;
const FRAME_BYTES = 160;

const frame = (value: number, bytes = FRAME_BYTES) => new Uint8Array(bytes).fill(value);

function summary(endReason: EndReason): CallSummary {
  return quietCallSummary({ endReason });
}

/**
 * A recorder on a clock the test moves, fed the call's events as the call publishes them. `call` speaks the
 * call's side: the agent's media goes out through one reused frame buffer, as the playout's does, so the
 * recorder must copy what it keeps.
 */
function setUp(options: { maxDurationMs?: number } = {}) {
  let nowMs = 1_000; // any origin: the call's timeline starts when the recorder is made
  const clock = { advanceTo: (callMs: number) => (nowMs = 1_000 + callMs) };
  let callerSentUntilMs = 0;
  const { log, lines } = capturingLogger();
  const finished: FinishedRecording[] = [];
  const recorder = new CallRecorder({
    callSid: CALL_SID,
    streamSid: STREAM_SID,
    from: '+14155550123',
    to: '+16505550199',
    direction: 'inbound',
    maxDurationMs: options.maxDurationMs ?? 60_000,
    log,
    onFinished: (recording) => finished.push(recording),
    clock: () => nowMs,
  });
  const publish = (event: CallEvent): void => recorder.listener(event);
  const playoutFrame = new Uint8Array(FRAME_BYTES);
  let turn = 0;
  const call = {
    publish,
    callerAudio: (mulaw: Uint8Array, timestampMs: number) => publish({ type: 'callerAudio', mulaw, timestampMs }),
    agentTurnStarted: () => publish({ type: 'agentTurnStarted', turn: ++turn }),
    agentTurnEnded: (interrupted = false) => publish({ type: 'agentTurnEnded', turn, interrupted }),
    sendMedia: (value: number) => {
      playoutFrame.fill(value);
      publish({ type: 'agentAudioSent', mulaw: playoutFrame, turn });
    },
    sendMark: (name: string) => publish({ type: 'markSent', name }),
    markEchoed: (mark: string) => publish({ type: 'agentAudioHeard', mark }),
    agentSaid: (text: string) => publish({ type: 'transcript', speaker: 'agent', text }),
    callerSaid: (text: string) => publish({ type: 'transcript', speaker: 'caller', text }),
    end: (reason: EndReason) => publish({ type: 'ended', reason, summary: summary(reason) }),
  };
  /** Twilio streams the caller's frames in real time: each arrives when its timestamp says, until `untilMs`. */
  const callerUntil = (untilMs: number, byteAt: (ms: number) => number = () => 0xff): void => {
    for (; callerSentUntilMs < untilMs; callerSentUntilMs += 20) {
      clock.advanceTo(callerSentUntilMs);
      call.callerAudio(frame(byteAt(callerSentUntilMs)), callerSentUntilMs);
    }
    clock.advanceTo(untilMs);
  };
  return { recorder, call, clock, callerUntil, finished, lines };
}

/** Both channels of a finished recording, as PCM16. */
function channels(recording: FinishedRecording): { left: Int16Array; right: Int16Array } {
  const left = new Int16Array(recording.frames);
  const right = new Int16Array(recording.frames);
  let at = 0;
  for (const block of recording.stereoPcmBlocks()) {
    const samples = new Int16Array(block.buffer, block.byteOffset, block.byteLength / 2);
    for (let i = 0; i < samples.length / 2; i++, at++) {
      left[at] = samples[2 * i]!;
      right[at] = samples[2 * i + 1]!;
    }
  }
  expect(at).toBe(recording.frames);
  return { left, right };
}

/** The PCM value of mu-law byte `value` from `fromMs` for `ms` milliseconds, or where it differs. */
function expectRun(samples: Int16Array, fromMs: number, ms: number, mulawValue: number): void {
  const expected = mulawDecodeSample(mulawValue);
  const run = samples.subarray(fromMs * 8, (fromMs + ms) * 8);
  expect(run.length).toBe(ms * 8);
  const wrong = run.findIndex((sample) => sample !== expected);
  expect(wrong, `sample ${wrong} after ${fromMs} ms`).toBe(-1);
}

const eventsOf = <T extends RecordingEvent['type']>(events: RecordingEvent[], type: T) =>
  events.filter((event): event is Extract<RecordingEvent, { type: T }> => event.type === type);

describe('CallRecorder', () => {
  it('places caller frames by their Twilio timestamps; holes are silence', () => {
    const { call, finished } = setUp();
    call.callerAudio(frame(0x10), 0);
    call.callerAudio(frame(0x20), 20);
    call.callerAudio(frame(0x30), 100); // the phone leg skipped 60 ms
    call.callerAudio(frame(0x40), 40); // late, out of order: still lands at its time
    call.end('caller-hung-up');
    const { left, right } = channels(finished[0]!);
    expect(left.length).toBe(120 * 8);
    expectRun(left, 0, 20, 0x10);
    expectRun(left, 20, 20, 0x20);
    expectRun(left, 40, 20, 0x40);
    expectRun(left, 60, 40, 0xff);
    expectRun(left, 100, 20, 0x30);
    expectRun(right, 0, 120, 0xff);
  });

  it('records a barge-in: the agent channel has what played before the clear and nothing after', () => {
    const { call, callerUntil, finished } = setUp();
    const callerSays = (ms: number) => (ms >= 1_000 && ms < 2_000 ? 0x05 : 0xff); // loud from 1 s to 2 s

    // Turn 1: 400 ms of agent audio in two batches, sent at 100 ms.
    callerUntil(100, callerSays);
    call.agentSaid('Welcome to');
    call.agentTurnStarted();
    for (let i = 0; i < 10; i++) call.sendMedia(0x50 + i);
    call.sendMark('t1:m1');
    for (let i = 10; i < 20; i++) call.sendMedia(0x50 + i);
    call.sendMark('t1:m2');
    call.agentSaid(' the Blue Door.');
    callerUntil(300, callerSays);
    call.markEchoed('t1:m1'); // the first 200 ms played from 100 to 300
    // The caller talks over the agent at 380 ms, 80 ms into the second batch: the call clears Twilio, then
    // publishes the barge-in.
    callerUntil(380, callerSays);
    call.publish({ type: 'cleared' });
    call.publish({ type: 'bargeIn', turn: 1, sentMs: 400, heardMs: 280, heardText: 'Welcome to the Blue Door.' });
    call.markEchoed('t1:m2'); // Twilio returns the cleared mark at once
    call.agentTurnEnded(true);

    // The caller's words, then turn 2, with a tool call on the way.
    callerUntil(2_400, callerSays);
    call.callerSaid('Call me on +1 415 555 0123');
    call.publish({ type: 'toolCall', id: 'fc-1', name: 'create_booking', args: { guest_name: 'Dana', phone: '+14155550123' } });
    call.publish({ type: 'toolResult', id: 'fc-1', name: 'create_booking', ok: true, durationMs: 3, response: { output: { booked: true } } });
    callerUntil(2_600, callerSays);
    call.agentTurnStarted();
    call.agentSaid('Booked.');
    for (let i = 0; i < 5; i++) call.sendMedia(0x70);
    call.sendMark('t2:m3');
    callerUntil(2_700, callerSays);
    call.markEchoed('t2:m3');
    call.agentTurnEnded();
    call.publish({ type: 'keypad', digit: '5' });
    call.publish({ type: 'textToModel', text: 'The caller typed on the keypad: 5' });
    callerUntil(3_000, callerSays);
    call.end('caller-hung-up');

    const recording = finished[0]!;
    const { left, right } = channels(recording);
    expectRun(left, 0, 1_000, 0xff);
    expectRun(left, 1_000, 1_000, 0x05);
    expectRun(left, 2_000, 1_000, 0xff);
    expectRun(right, 0, 100, 0xff);
    for (let i = 0; i < 14; i++) expectRun(right, 100 + i * 20, 20, 0x50 + i); // 280 ms played: 14 whole frames
    expectRun(right, 380, 2_220, 0xff); // nothing of the cleared 120 ms, ever
    expectRun(right, 2_600, 100, 0x70);
    expectRun(right, 2_700, 300, 0xff);

    const log = parseRecordingLog(JSON.parse(JSON.stringify(recording.log)));
    expect(log).toMatchObject({ callSid: CALL_SID, from: '+1********23', to: '+1********99', endReason: 'caller-hung-up', durationMs: 3_000 });
    expect(eventsOf(log.events, 'interrupted')).toEqual([{ type: 'interrupted', atMs: 380, agentTurn: 1, sentMs: 400, heardMs: 280, droppedMs: 120 }]);
    expect(eventsOf(log.events, 'transcript').map(({ speaker, text, atMs }) => ({ speaker, text, atMs }))).toEqual([
      { speaker: 'agent', text: 'Welcome to the Blue Door.', atMs: 100 },
      { speaker: 'caller', text: 'Call me on +1********23', atMs: 2_400 },
      { speaker: 'agent', text: 'Booked.', atMs: 2_600 },
    ]);
    expect(eventsOf(log.events, 'toolCall')[0]).toEqual({ type: 'toolCall', atMs: 2_400, id: 'fc-1', name: 'create_booking', args: { guest_name: 'Dana', phone: '+1********23' } });
    expect(eventsOf(log.events, 'toolResult')[0]).toMatchObject({ id: 'fc-1', response: { output: { booked: true } } });
    expect(eventsOf(log.events, 'keypad')).toEqual([{ type: 'keypad', atMs: 2_700, digit: '5' }]);
    expect(eventsOf(log.events, 'textToModel')).toEqual([{ type: 'textToModel', atMs: 2_700, text: 'The caller typed on the keypad: 5' }]);
    expect(eventsOf(log.events, 'callerSpeech')).toEqual([{ type: 'callerSpeech', atMs: 1_000, endMs: 2_000 }]);
    expect(log.agentTurns).toEqual([
      { turn: 1, startedAtMs: 100, firstHeardAtMs: 100, sentMs: 400, heardMs: 280, interrupted: true, text: 'Welcome to the Blue Door.' },
      { turn: 2, startedAtMs: 2_600, firstHeardAtMs: 2_600, sentMs: 100, heardMs: 100, interrupted: false, text: 'Booked.', latencyMs: 600, respondsTo: 'speech' },
    ]);
    expect(log.events.at(-1)).toEqual({ type: 'callEnded', atMs: 3_000, reason: 'caller-hung-up' });
    expect(JSON.stringify(log)).not.toMatch(/\+1\s?415|4155550123/);
  });

  it('logs cancelled tool calls, session switches and a lost model', () => {
    const { call, clock, finished } = setUp();
    clock.advanceTo(100);
    call.publish({ type: 'toolCancelled', ids: ['fc-2', 'fc-3'] });
    clock.advanceTo(200);
    call.publish({ type: 'sessionSwitched', reason: 'handover', switchMs: 40, replayedMs: 0, bufferedMs: 20, resumed: true });
    clock.advanceTo(300);
    call.publish({ type: 'modelLost', reason: 'reconnect failed' });
    call.end('model-lost');
    const { events } = finished[0]!.log;
    expect(eventsOf(events, 'toolCallCancelled')).toEqual([{ type: 'toolCallCancelled', atMs: 100, ids: ['fc-2', 'fc-3'] }]);
    expect(eventsOf(events, 'modelSessionSwitched')).toEqual([{ type: 'modelSessionSwitched', atMs: 200, reason: 'handover' }]);
    expect(eventsOf(events, 'modelLost')).toEqual([{ type: 'modelLost', atMs: 300, reason: 'reconnect failed' }]);
    expect(finished[0]!.log.endReason).toBe('model-lost');
  });

  it("puts the agent on Twilio's clock: the server set the call up after Twilio's stream clock had started", () => {
    const { call, clock, finished } = setUp();
    // Twilio's timestamps run 40 ms ahead of the recorder's clock: frame T arrives at recorder time T - 40.
    for (let t = 40; t <= 400; t += 20) {
      clock.advanceTo(t - 40);
      call.callerAudio(frame(t === 240 ? 0x22 : 0xff), t);
      if (t - 40 === 100) {
        call.agentTurnStarted();
        for (let i = 0; i < 5; i++) call.sendMedia(0x66);
        call.sendMark('m1');
      }
      if (t - 40 === 200) call.markEchoed('m1'); // played 100..200 on the recorder's clock
    }
    call.end('caller-hung-up');
    const recording = finished[0]!;
    const { left, right } = channels(recording);
    expectRun(left, 240, 20, 0x22);
    expectRun(right, 0, 140, 0xff);
    expectRun(right, 140, 100, 0x66); // 100..200 + 40: where it sits next to the caller's own frames
    expectRun(right, 240, 180, 0xff);
    expect(recording.log.agentTurns[0]).toMatchObject({ startedAtMs: 140, firstHeardAtMs: 140 });
    expect(recording.log.durationMs).toBe(400);
  });

  it('keeps memory bounded: audio past the recording limit is dropped and flagged', () => {
    const { call, finished } = setUp({ maxDurationMs: 1_000 });
    call.callerAudio(frame(0x10), 990);
    call.callerAudio(frame(0x10), 86_400_000); // a day in: never allocated
    call.end('caller-hung-up');
    const recording = finished[0]!;
    expect(recording.frames).toBe(1_000 * 8);
    expect(recording.log.audio.truncated).toBe(true);
  });

  it('a failure inside the recorder is logged once and abandons the recording, never the call', () => {
    const { call, finished, lines } = setUp();
    // The recorder is a listener on the call's event stream: whatever goes wrong inside, it must not throw
    // into the call's path.
    expect(() => {
      call.callerAudio(frame(0x10), Number.NaN); // no such place on the timeline
      call.callerAudio(frame(0x10), 0);
      call.agentTurnStarted();
      call.sendMedia(0x33);
      call.end('caller-hung-up');
    }).not.toThrow();
    expect(finished).toEqual([]);
    expect(lines.filter((line) => line.msg === 'call recording failed; the call goes on without it')).toHaveLength(1);
  });

  it('finishes once', () => {
    const { call, finished } = setUp();
    call.end('caller-hung-up');
    call.end('server-stopping');
    expect(finished).toHaveLength(1);
    expect(finished[0]!.log.endReason).toBe('caller-hung-up');
  });
});
