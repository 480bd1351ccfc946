import { describe, expect, it } from 'vitest';
import { DEFAULT_CUES } from '../../src/agents/agent.js';
import type { FakeGeminiLiveOptions } from '../fakes/gemini-live/server.js';
import { loadSpeechFixture } from '../fakes/twilio/index.js';
import { bridgeCalls, textsSent } from '../support/bridge-harness.js';

describe('dead air: stalls, silence and the time limit', () => {
  const calls = bridgeCalls();
  const start = (gemini: FakeGeminiLiveOptions, env: Record<string, string>) => calls.start({ gemini, env });

  it('cues a model that does not answer the caller, and the answer then plays', async () => {
    const { callSid, twilio, session, bridge: b } = await start(
      {
        replies: ({ source, heardText }) =>
          source === 'audio' ? undefined : { text: heardText === DEFAULT_CUES.stall ? 'Sorry, yes: we have a table at eight.' : 'Hello, Blue Door.' },
      },
      { STALL_TIMEOUT_MS: '1000' },
    );
    await twilio.playCallerAudio(loadSpeechFixture('booking-question'));
    await session.waitUntil((s) => textsSent(s).includes(DEFAULT_CUES.stall), 5_000);
    await session.waitUntil((s) => s.modelTurns.filter((t) => t.outcome === 'completed').length === 2, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
    const summary = await b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ stalls: 1, emptyTurns: 0 });
  });

  it('resumes the session when the model stays silent even after the cue', async () => {
    const { callSid, twilio, session, bridge: b } = await start(
      // The first connection never answers the caller; a resumed one does (it hears the replayed question).
      { replies: ({ source, turnIndex, session: s }) => (s.index > 0 ? { text: 'Here I am.' } : source === 'text' && turnIndex === 0 ? { text: 'Hello.' } : undefined) },
      { STALL_TIMEOUT_MS: '800' },
    );
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    const resumed = await b.gemini.waitForSession(1, 8_000);
    expect(resumed.resumedFrom?.sessionIndex).toBe(0);
    expect(textsSent(session)).toContain(DEFAULT_CUES.stall);
    await resumed.waitUntil((s) => s.modelTurns.some((t) => t.outcome === 'completed'), 10_000);
    await twilio.hangUp();
    const summary = await b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ stalls: 2, modelConnections: 2, sessionSwitches: { handover: 0, connectionLost: 0, stall: 1 } });
  });

  it('counts an empty model turn and cues the model at once', async () => {
    const { callSid, twilio, session, bridge: b } = await start(
      { replies: ({ source, heardText }) => (source === 'audio' ? { text: '', audio: new Int16Array(0) } : { text: heardText === DEFAULT_CUES.emptyTurn ? 'Sorry about that.' : 'Hello.' }) },
      { STALL_TIMEOUT_MS: '5000' },
    );
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await session.waitUntil((s) => textsSent(s).includes(DEFAULT_CUES.emptyTurn), 5_000);
    await twilio.hangUp();
    const summary = await b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ emptyTurns: 1, stalls: 1 });
  });

  it('checks in with a silent caller once, then says goodbye and hangs up after it is heard', async () => {
    const { callSid, twilio, session, bridge: b, rest: r } = await start(
      { replies: ({ heardText }) => ({ text: heardText === DEFAULT_CUES.silenceGoodbye ? 'Goodbye for now.' : heardText === DEFAULT_CUES.silenceCheckIn ? 'Are you still there?' : 'Hello.' }) },
      { SILENCE_TIMEOUT_MS: '1500' },
    );
    const hangUp = await r.waitForRequest((request) => request.form.Status === 'completed', 15_000);
    expect(textsSent(session)).toEqual(expect.arrayContaining([DEFAULT_CUES.silenceCheckIn, DEFAULT_CUES.silenceGoodbye]));
    // The goodbye had been played in full before the REST hang-up went out.
    const goodbye = session.modelTurns.at(-1)!;
    expect(goodbye.outcome).toBe('completed');
    expect(twilio.heardAudio.length / 8).toBeGreaterThanOrEqual(((session.modelTurns.reduce((sum, t) => sum + t.audioSamples, 0)) / 24_000) * 1000 - 1);
    expect(hangUp.authorized).toBe(true);
    const summary = await b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ endReason: 'caller-silent', silencePrompts: 1 });
  }, 20_000);

  it('says goodbye at MAX_CALL_DURATION_MS and hangs up', async () => {
    const { callSid, session, bridge: b, rest: r } = await start(
      { replies: ({ heardText }) => ({ text: heardText === DEFAULT_CUES.maxDurationGoodbye ? 'We are out of time, goodbye.' : 'Hello.' }) },
      { MAX_CALL_DURATION_MS: '2500' },
    );
    await r.waitForRequest((request) => request.form.Status === 'completed', 10_000);
    expect(textsSent(session)).toContain(DEFAULT_CUES.maxDurationGoodbye);
    const summary = await b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary.endReason).toBe('max-duration');
  });
});
