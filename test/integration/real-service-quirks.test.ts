/**
 * The main call flows against a local Live server (and a fake Twilio) that behave like the real services do,
 * not only like their documentation says: each quirk is an option of the fake with its source next to it
 * (test/fakes/gemini-live/types.ts `LiveQuirks`, test/fakes/twilio/media-stream.ts), and docs/real-service-behaviour.md
 * maps each one to the test here that covers it. The same flows with every quirk off are the other
 * integration tests (call-flow, barge-in, tools, session-recovery, watchdog).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CUES as CUES } from '../../src/agents/agent.js';
import { ALL_QUIRKS, type FakeGeminiLiveOptions, type FakeReply, type FakeSession, type LiveQuirks } from '../fakes/gemini-live/server.js';
import { loadSpeechFixture, type FakeTwilioMediaStreamOptions } from '../fakes/twilio/index.js';
import { bridgeCalls, sleep, type Bridge, type LogLine } from '../support/bridge-harness.js';

const GREETING = 'Blue Door, how can I help?';
const ANSWER = 'Certainly, we have a table at eight.';
const LONG_GREETING = 'Thanks for calling the Blue Door restaurant on Market Street, this is the reservations line. How may I help?';
const GOODBYE = 'Thank you for calling the Blue Door. Goodbye!';

/** The agent's greeting cue (the restaurant example's, like the default, opens with this sentence). */
const isGreetingCue = (text: string | undefined): boolean => text?.startsWith('The phone call has just been connected.') === true;
const greetThenAnswer = ({ heardText }: { heardText?: string }): FakeReply => ({ text: isGreetingCue(heardText) ? GREETING : ANSWER });
const msOf = (samples24k: number) => samples24k / 24;
const completed = (s: FakeSession) => s.modelTurns.filter((t) => t.outcome === 'completed').length;
const sent = (s: FakeSession, pick: (m: Record<string, unknown>) => boolean) => s.sentMessages.filter((m) => pick(m.message as Record<string, unknown>));

describe('the call core on the real service\'s quirks', () => {
  const calls = bridgeCalls();
  // LOG_TRANSCRIPTS=1: the per-turn transcripts the call read are checked in the log.
  const start = (gemini: FakeGeminiLiveOptions, twilio: Partial<FakeTwilioMediaStreamOptions> = {}) => calls.start({ gemini, twilio, env: { LOG_TRANSCRIPTS: '1' }, waitForGreeting: false });

  const summaryOf = (b: Bridge, callSid: string) => b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);

  // ── The two failures of issue #13 ─────────────────────────────────────────────────────────────────

  it('a phantom interrupted right after the greeting (no caller speech, no turnComplete) does not silence the next reply', async () => {
    const { callSid, twilio, session, bridge: b } = await start({ replies: greetThenAnswer, quirks: { phantomInterruptAfterGreeting: true } });
    await session.waitUntil((s) => sent(s, (m) => JSON.stringify(m) === '{"serverContent":{"interrupted":true}}').length === 1, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const heardBefore = twilio.heardAudio.length;
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await session.waitUntil((s) => completed(s) === 2, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const answerMs = msOf(session.modelTurns[1]!.audioSamples);
    expect((twilio.heardAudio.length - heardBefore) / 8).toBeGreaterThanOrEqual(answerMs - 1); // was 0 ms
    expect(twilio.clears).toHaveLength(0); // it cut nothing, so nothing was cleared
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ interruptions: 0, agentTurns: 2 });
  });

  it('a barge-in with a lone interrupted and late chunks of the cut reply: the late chunks are dropped, the answer plays in full', async () => {
    const { callSid, twilio, session, bridge: b } = await start({
      replies: ({ heardText }) => ({ text: isGreetingCue(heardText) ? LONG_GREETING : ANSWER }),
      quirks: { interruptWithoutTurnComplete: true, lateChunksAfterInterrupt: 2 },
    });
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    await sleep(1_000);
    const speaking = twilio.playCallerAudio(loadSpeechFixture('barge-in'));
    const clear = await twilio.waitForClear({ timeoutMs: 3_000 });
    const greeting = session.modelTurns[0]!;
    expect(greeting.outcome).toBe('interrupted');
    expect(greeting.turnCompleteAtMs).toBeUndefined(); // the service never closed it
    expect(greeting.lateSamplesSent).toBeGreaterThan(0);
    await speaking;
    await session.waitUntil((s) => s.modelTurns[1]?.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const answerMs = msOf(session.modelTurns[1]!.audioSamples);
    const afterClearMs = twilio.receivedMedia.filter((m) => m.atMs >= clear.atMs).reduce((sum, m) => sum + m.bytes.length, 0) / 8;
    expect(afterClearMs).toBeGreaterThanOrEqual(answerMs - 1); // the answer, in full ...
    expect(afterClearMs).toBeLessThanOrEqual(answerMs + 20); // ... and none of the late chunks
    expect(twilio.marksEchoed.some((mark) => mark.outcome === 'cleared')).toBe(true); // Twilio echoes marks after a clear
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ interruptions: 1, agentTurns: 2 });
    expect(twilio.violations).toEqual([]);
  });

  // Requirement 2: every way a model ends its turns, through end_call (the flow that waits for the goodbye).
  it.each<[string, LiveQuirks]>([
    ['generationComplete only (usage incremental)', { turnEnd: 'generationComplete', usage: 'incremental' }],
    ['turnComplete only (no usage at all)', { turnEnd: 'turnComplete', usage: 'none' }],
    ['both (usage beside turnComplete)', { turnEnd: 'both' }],
  ])('end_call hangs up as soon as the goodbye has played when turns end with %s', async (_label, quirks) => {
    const { callSid, twilio, session, rest: r, bridge: b } = await start({ replies: greetThenAnswer, burstSpeed: 2, quirks });
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    let atHangUp: { now: number; playedUntil: number; buffered: number } | undefined;
    r.onCallUpdated(({ call }) => {
      const last = twilio.heardTimeline.at(-1);
      if (call.sid === callSid) atHangUp = { now: twilio.now(), playedUntil: last === undefined ? 0 : last.atMs + last.bytes.length / 8, buffered: twilio.bufferedAgentBytes };
    });
    session.sendToolCall([{ name: 'end_call', args: {} }], { text: GOODBYE });
    await r.waitForRequest((request) => request.form.Status === 'completed', 15_000);
    expect(atHangUp!.buffered).toBe(0);
    expect(atHangUp!.now - atHangUp!.playedUntil).toBeLessThan(1_000); // was 11 s with generationComplete only
    const hungUp = await b.waitForLog((line) => line.msg === 'hung up the call through the Twilio REST API' && line.callSid === callSid);
    expect(hungUp.trigger).toBe('goodbye-played');
    const summary = await summaryOf(b, callSid);
    expect(summary).toMatchObject({ endReason: 'agent-hung-up', agentTurns: 2, emptyTurns: 0 });
    // Usage counted once however it came (a response reported with every chunk is one response), or estimated.
    const billedAudioOut = session.modelTurns.reduce((sum, turn) => sum + Math.ceil((turn.audioSamples / 24_000) * 25), 0);
    if (quirks.usage === 'none') expect(summary.tokens).toMatchObject({ source: 'estimated', reports: 0 });
    else expect(summary.tokens).toMatchObject({ source: 'reported', output: { text: 0, audio: billedAudioOut } });
  });

  it('the empty turn (a bare turnComplete, no content) is counted and the model is cued', async () => {
    const { callSid, twilio, session, bridge: b } = await start({
      replies: ({ heardText, source }) => (source === 'audio' ? { text: '', audio: new Int16Array(0) } : { text: heardText === CUES.emptyTurn ? 'Sorry about that.' : GREETING }),
      quirks: { turnEnd: 'turnComplete' },
    });
    await session.waitUntil((s) => completed(s) === 1, 10_000);
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await session.waitUntil((s) => s.receivedMessages.some((m) => m.kind === 'realtimeInput' && m.input.type === 'text' && m.input.text === CUES.emptyTurn), 8_000);
    expect(sent(session, (m) => JSON.stringify(m.serverContent ?? {}).startsWith('{"turnComplete":true')).length).toBeGreaterThanOrEqual(2);
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ emptyTurns: 1, stalls: 1 });
  });

  // ── Handover ────────────────────────────────────────────────────────────────────────────────────

  it.each([10, 50])('goAway with "%ds" left, resume refused while the old connection is open: one attempt, no caller audio lost', async (seconds) => {
    const { callSid, twilio, session: first, bridge: b } = await start({ replies: greetThenAnswer, quirks: { refuseResumeWhileOpen: true, repeatedResumptionUpdates: true } });
    await first.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed' && s.issuedHandles.length >= 3, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const question = loadSpeechFixture('booking-question');
    const speaking = twilio.playCallerAudio(question);
    await sleep(1_000);
    const latestHandle = first.issuedHandles.at(-1);
    first.sendGoAway(seconds);
    const second = await b.gemini.waitForSession(1);
    expect(second.resumedFrom).toEqual({ handle: latestHandle, sessionIndex: 0 });
    expect(second.closeInfo).toBeUndefined(); // not refused
    expect((await first.closed).initiatedBy).toBe('client');
    const switched: LogLine = await b.waitForLog((line) => line.msg === 'continuing on a new model session' && line.callSid === callSid);
    expect(switched).toMatchObject({ reason: 'handover', resumed: true });
    await speaking;
    await second.waitUntil((s) => s.modelTurns.some((t) => t.outcome === 'completed'), 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
    await second.closed;
    expect(b.gemini.sessions).toHaveLength(2); // no wasted attempts
    const sentMs = twilio.callerFramesSent * 20;
    const deliveredMs = first.receivedAudio16k.seconds * 1000 + second.receivedAudio16k.seconds * 1000 - (switched.replayedMs as number);
    expect(Math.round(sentMs - deliveredMs)).toBe(0);
    expect(await summaryOf(b, callSid)).toMatchObject({ modelConnections: 2, sessionSwitches: { handover: 1, connectionLost: 0, stall: 0 } });
  });

  it('a goAway whose time runs out closes 1008; the call resumes on a new connection and goes on', async () => {
    const { callSid, twilio, session: first, bridge: b } = await start({ replies: greetThenAnswer, quirks: { goAwayCloseCode: 1008 } });
    await first.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed' && s.issuedHandles.length > 0, 10_000);
    first.sendGoAway(0); // the time is up at once: the service closes before any handover could happen
    expect((await first.closed).code).toBe(1008);
    const second = await b.gemini.waitForSession(1, 5_000);
    expect(second.resumedFrom?.sessionIndex).toBe(0);
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await second.waitUntil((s) => s.modelTurns.some((t) => t.outcome === 'completed'), 10_000);
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ modelConnections: 2, endReason: 'caller-hung-up' });
  });

  // ── The main flows with every quirk on ──────────────────────────────────────────────────────────

  it('every quirk on: greeting and conversation, transcripts read right, stream timestamps from a non-zero offset', async () => {
    const { callSid, twilio, session, bridge: b } = await start({ replies: greetThenAnswer, quirks: ALL_QUIRKS }, { timestampOffsetMs: 73_000 });
    await session.waitUntil((s) => completed(s) === 1, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    expect(twilio.heardAudio.length / 8).toBeGreaterThanOrEqual(msOf(session.modelTurns[0]!.audioSamples) - 1);
    const heardBefore = twilio.heardAudio.length;
    await twilio.playCallerAudio(loadSpeechFixture('booking-question'));
    await session.waitUntil((s) => completed(s) === 2, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    expect((twilio.heardAudio.length - heardBefore) / 8).toBeGreaterThanOrEqual(msOf(session.modelTurns[1]!.audioSamples) - 1);

    // The fake really did behave that way.
    expect(sent(session, (m) => Object.keys(m).length === 0).length).toBeGreaterThan(0); // bare {}
    expect(sent(session, (m) => m.voiceActivity !== undefined && JSON.stringify(m.serverContent) === '{}').length).toBeGreaterThanOrEqual(2);
    expect(sent(session, (m) => m.usageMetadata !== undefined && m.serverContent === undefined).length).toBeGreaterThan(2); // incremental
    expect(sent(session, (m) => (m.serverContent as { turnComplete?: boolean } | undefined)?.turnComplete === true)).toHaveLength(0);
    expect(sent(session, (m) => JSON.stringify(m.serverContent ?? {}).includes('"generationComplete":true') && JSON.stringify(m).includes('outputTranscription')).length).toBe(2);
    const interims = sent(session, (m) => (m.serverContent as Record<string, unknown> | undefined)?.interimInputTranscription !== undefined);
    expect(interims.length).toBeGreaterThan(2);

    // Transcripts: deltas joined, interim repeats not taken as more speech.
    const turnLogs = b.logs.filter((line) => line.msg === 'turn complete' && line.callSid === callSid);
    expect(turnLogs.map((line) => line.agentSaid)).toEqual([GREETING, ANSWER]);
    const heard = session.turns.find((t) => t.source === 'audio');
    expect(turnLogs[1]!.callerSaid).toBe(`(caller speech ${(((heard!.audioEndMs ?? 0) - (heard!.audioStartMs ?? 0)) / 1000).toFixed(1)} s)`);
    await twilio.hangUp();
    const summary = await summaryOf(b, callSid);
    expect(summary).toMatchObject({ agentTurns: 2, interruptions: 0, callerGapFilledSeconds: 0, endReason: 'caller-hung-up' });
    expect(b.logs.some((line) => line.msg === 'failed to read a Gemini Live message' || line.msg === 'call failed to handle a model event')).toBe(false);
    expect(twilio.violations).toEqual([]);
  });

  it('every quirk on: barge-in over a caller line with gaps and no silence frames', async () => {
    const { callSid, twilio, session, bridge: b } = await start(
      { replies: ({ heardText }) => ({ text: isGreetingCue(heardText) ? LONG_GREETING : ANSWER }), quirks: ALL_QUIRKS },
      { continuousSilence: false },
    );
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    await sleep(1_000);
    const speaking = twilio.playCallerAudio(loadSpeechFixture('barge-in'));
    const clear = await twilio.waitForClear({ timeoutMs: 3_000 });
    await speaking;
    await twilio.playSilence(1_000); // the phone leg sends a little silence, then nothing
    await session.waitUntil((s) => s.modelTurns[1]?.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const answerMs = msOf(session.modelTurns[1]!.audioSamples);
    const afterClearMs = twilio.receivedMedia.filter((m) => m.atMs >= clear.atMs).reduce((sum, m) => sum + m.bytes.length, 0) / 8;
    expect(afterClearMs).toBeGreaterThanOrEqual(answerMs - 1);
    expect(afterClearMs).toBeLessThanOrEqual(answerMs + 20);
    await sleep(300);
    await twilio.playCallerAudio(loadSpeechFixture('short-hello')); // after a gap in the stream
    await session.waitUntil((s) => s.modelTurns[2]?.outcome === 'completed', 10_000);
    await twilio.hangUp();
    const summary = await summaryOf(b, callSid);
    expect(summary).toMatchObject({ interruptions: 1, agentTurns: 3 });
    expect(summary.callerGapFilledSeconds).toBeGreaterThan(0);
    expect(twilio.violations).toEqual([]);
  });

  it('every quirk on: a toolCall with several calls and mixed id formats is answered id for id, then end_call', async () => {
    const { callSid, twilio, session, rest: r, bridge: b } = await start({ replies: greetThenAnswer, quirks: ALL_QUIRKS });
    await session.waitUntil((s) => completed(s) === 1, 10_000);
    const ids = session.sendToolCall(
      [
        { name: 'find_booking', args: { code: 'K7Q2M9' } },
        { name: 'check_availability', args: { date: '2099-01-01', time: '18:00', party_size: 2 } },
        { name: 'book_spaceship', args: {} },
      ],
      { text: 'Here is what I found.' },
    );
    expect(ids.some((id) => id.startsWith('function-call-'))).toBe(true);
    expect(ids.some((id) => !id.startsWith('function-call-'))).toBe(true);
    await session.waitUntil((s) => completed(s) === 2, 10_000);
    expect(session.toolResponses.map((t) => t.response.id).sort()).toEqual([...ids].sort());
    expect(session.toolResponses.every((t) => t.accepted)).toBe(true);
    session.sendToolCall([{ name: 'end_call', args: {} }], { text: GOODBYE });
    await r.waitForRequest((request) => request.form.Status === 'completed', 15_000);
    const hungUp = await b.waitForLog((line) => line.msg === 'hung up the call through the Twilio REST API' && line.callSid === callSid);
    expect(hungUp.trigger).toBe('goodbye-played');
    expect(await summaryOf(b, callSid)).toMatchObject({ endReason: 'agent-hung-up', agentTurns: 3 });
    expect(twilio.violations).toEqual([]);
  });

  it('every quirk on: goAway handover resumes with the latest of the repeated handles', async () => {
    const { callSid, twilio, session: first, bridge: b } = await start({ replies: greetThenAnswer, quirks: ALL_QUIRKS });
    await first.waitUntil((s) => completed(s) === 1 && s.issuedHandles.length >= 3, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    first.sendGoAway(50);
    const second = await b.gemini.waitForSession(1);
    expect(second.resumedFrom?.handle).toBe(first.issuedHandles.at(-1));
    expect(second.closeInfo).toBeUndefined();
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await second.waitUntil((s) => completed(s) === 1, 10_000);
    await twilio.hangUp();
    expect(b.gemini.sessions).toHaveLength(2);
    expect(await summaryOf(b, callSid)).toMatchObject({ modelConnections: 2, sessionSwitches: { handover: 1, connectionLost: 0, stall: 0 } });
  });
});
