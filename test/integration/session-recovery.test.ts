import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CUES } from '../../src/agents/agent.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, loadSpeechFixture, startFakeTwilioRestApi } from '../fakes/twilio/index.js';
import { activeMs, bestAlignment, decodeMulawReference, rmsEnvelope } from '../support/audio-compare.js';
import { sleep, startBridge, type Bridge, type LogLine } from '../support/bridge-harness.js';

const GREETING = 'Blue Door, how can I help?';
const ANSWER = 'Certainly, let me check.';
const replies = ({ source }: { source: string }) => ({ text: source === 'text' ? GREETING : ANSWER });

describe('Gemini Live sessions ending under a live call', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  it('hands over to a resumed session on goAway mid-utterance without losing caller audio or the Twilio stream', async () => {
    bridge = await startBridge({ gemini: { replies } });
    const { callSid, twilio } = await bridge.placeCall();
    const first = await bridge.gemini.waitForSession(0);
    await first.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed' && s.issuedHandles.length > 0, 10_000);
    await twilio.waitForPlayoutIdle(10_000);

    // The caller starts a 4-second question; 1.5 s in, the service announces the connection's end.
    const question = loadSpeechFixture('booking-question');
    const speaking = twilio.playCallerAudio(question);
    await sleep(1_500);
    const handleBeforeGoAway = first.issuedHandles.at(-1);
    first.sendGoAway(20);

    const second = await bridge.gemini.waitForSession(1);
    expect(second.resumedFrom).toEqual({ handle: handleBeforeGoAway, sessionIndex: 0 });
    expect((await first.closed).initiatedBy).toBe('client');
    const switched = await bridge.waitForLog((line) => line.msg === 'continuing on a new model session' && line.callSid === callSid);
    expect(switched).toMatchObject({ reason: 'handover', resumed: true });

    // The new session heard the whole question, its first 1.5 s replayed from before the switch.
    await speaking;
    await second.waitUntil((s) => s.modelTurns.some((turn) => turn.outcome === 'completed'), 10_000);
    const turn = second.turns.find((t) => t.source === 'audio')!;
    const reference = decodeMulawReference(question);
    const speechMs = activeMs(rmsEnvelope(reference, 8_000));
    const heard = second.receivedAudio16k.slice(turn.audioStartMs! - 300, turn.audioEndMs! + 100);
    expect(activeMs(rmsEnvelope(heard, 16_000))).toBeGreaterThanOrEqual(speechMs - 100);
    expect(bestAlignment(rmsEnvelope(reference, 8_000, 10), rmsEnvelope(heard, 16_000, 10), 60).correlation).toBeGreaterThan(0.98);

    // The caller hears the answer over the same, never-dropped Twilio stream.
    await twilio.waitForPlayoutIdle(10_000);
    expect(twilio.isOpen).toBe(true);
    await twilio.hangUp();
    await second.closed;

    // Audio lost across the handover: every caller frame reached a session exactly once.
    const sentMs = twilio.callerFramesSent * 20;
    const deliveredMs = first.receivedAudio16k.seconds * 1000 + second.receivedAudio16k.seconds * 1000 - (switched.replayedMs as number);
    expect(Math.round(sentMs - deliveredMs)).toBe(0);
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ modelConnections: 2, sessionSwitches: { handover: 1, connectionLost: 0, stall: 0 }, endReason: 'caller-hung-up' });
    expect(twilio.violations).toEqual([]);
  });

  it('waits for the agent to finish its turn before handing over, so no agent audio is cut', async () => {
    bridge = await startBridge({ gemini: { replies: () => ({ text: 'This is a rather long greeting that takes a few seconds to say in full.' }) } });
    const { twilio } = await bridge.placeCall();
    const first = await bridge.gemini.waitForSession(0);
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    first.sendGoAway(30); // mid-turn
    await sleep(300);
    expect(bridge.gemini.sessions.length).toBe(1); // not yet: the turn is still playing
    const second = await bridge.gemini.waitForSession(1, 10_000);
    expect(first.modelTurns[0]!.outcome).toBe('completed');
    expect(second.resumedFrom?.handle).toBe(first.issuedHandles.at(-1)); // the handle issued after that turn
    await twilio.waitForPlayoutIdle(10_000);
    const greetingMs = (first.modelTurns[0]!.audioSamples / 24_000) * 1000;
    expect(twilio.heardAudio.length / 8).toBeGreaterThanOrEqual(greetingMs - 1);
    expect(twilio.clears).toHaveLength(0);
    await twilio.hangUp();
  });

  it.each([
    ['closes with 1011', (s: { closeWith(code: number, reason: string): void }) => s.closeWith(1011, 'Internal error encountered.')],
    ['drops the connection (1006)', (s: { drop(): void }) => s.drop()],
  ])('reconnects with the resumption handle when Gemini %s, and the call goes on', async (_label, fail) => {
    bridge = await startBridge({ gemini: { replies } });
    const { callSid, twilio } = await bridge.placeCall();
    const first = await bridge.gemini.waitForSession(0);
    await first.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed' && s.issuedHandles.length > 0, 10_000);
    await twilio.waitForPlayoutIdle(10_000);

    const failedAt = Date.now();
    fail(first as never);
    const second = await bridge.gemini.waitForSession(1, 5_000);
    await second.waitUntil((s) => s.setupCompleteSent, 5_000);
    const reconnectMs = Date.now() - failedAt;
    expect(second.resumedFrom?.sessionIndex).toBe(0);
    const switched: LogLine = await bridge.waitForLog((line) => line.msg === 'continuing on a new model session' && line.callSid === callSid);
    expect(switched).toMatchObject({ reason: 'connectionLost', resumed: true });
    expect(reconnectMs).toBeLessThan(2_000);

    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await second.waitUntil((s) => s.modelTurns.some((turn) => turn.outcome === 'completed'), 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    expect(twilio.isOpen).toBe(true);
    await twilio.hangUp();
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ modelConnections: 2, sessionSwitches: { handover: 0, connectionLost: 1, stall: 0 }, endReason: 'caller-hung-up' });
  });

  it('apologises through Twilio and hangs up when Gemini cannot be reached again after bounded retries', async () => {
    const rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
    bridge = await startBridge({
      gemini: { replies, rejectSetup: (_setup, session) => (session.index > 0 ? { code: 1011, reason: 'The service is currently unavailable.' } : undefined) },
      env: { TWILIO_API_BASE_URL: rest.baseUrl },
    });
    const { callSid, twiml } = await bridge.ringWebhook();
    rest.addCall({ sid: callSid });
    const twilio = await bridge.openStream(callSid, twiml);
    const first = await bridge.gemini.waitForSession(0);
    await first.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
    first.closeWith(1011, 'Internal error encountered.');

    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid, 15_000);
    expect(summary.endReason).toBe('model-lost');
    expect(bridge.gemini.sessions.length).toBe(5); // the first session, then four bounded attempts
    // The caller is not left in dead air: Twilio says the apology, then hangs up.
    const apology = await rest.waitForRequest((request) => request.form.Twiml !== undefined);
    expect(apology.form.Twiml).toContain(`<Say>${DEFAULT_CUES.apology}</Say><Hangup/>`);
    expect(rest.getCall(callSid)?.twiml).toContain(DEFAULT_CUES.apology);
    await twilio.closed;
    await rest.close();
  }, 20_000);
});
