import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, defaultVoiceWebhookParams, loadSpeechFixture, postVoiceWebhook } from '../fakes/twilio/index.js';
import { GEMINI_TEST_KEY, PUBLIC_URL, restaurantGreetingCue, startBridge, type Bridge } from '../support/bridge-harness.js';

const GREETING = 'Thanks for calling the Blue Door. How can I help?';
const ANSWER = 'Of course. What is the confirmation code?';

/** Sessions from this index on take SLOW_SETUP_MS to set up (the instant greeting test); earlier ones are instant. */
let slowSetupFromSession = Number.POSITIVE_INFINITY;
/** Under the bridge's GEMINI_SETUP_TIMEOUT_MS (2 s), which would otherwise end the call. */
const SLOW_SETUP_MS = 1_200;

describe('a phone call through the bridge', () => {
  let bridge: Bridge;

  beforeAll(async () => {
    bridge = await startBridge({
      gemini: {
        replies: ({ source }) => ({ text: source === 'text' ? GREETING : ANSWER }),
        setupDelayMs: (sessionIndex) => (sessionIndex >= slowSetupFromSession ? SLOW_SETUP_MS : 0),
      },
    });
  });
  afterAll(async () => bridge.stop());
  afterEach(() => {
    slowSetupFromSession = Number.POSITIVE_INFINITY;
  });

  it('answers with a greeting, hears the caller, answers back, and closes Gemini at hang-up', async () => {
    const { callSid, twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);

    // The Live setup the call asked for.
    expect(session.apiKey).toBe('test-gemini-key');
    expect(session.setup).toMatchObject({
      model: 'models/gemini-3.8-live',
      generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } },
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      sessionResumption: {},
      contextWindowCompression: { triggerTokens: '25600', slidingWindow: { targetTokens: '12800' } },
    });
    expect(JSON.stringify(session.setup?.systemInstruction)).toContain('phone agent');

    // The agent speaks first: the call cues a greeting with realtime text, never with mediaChunks.
    await session.waitUntil((s) => s.modelTurns.some((turn) => turn.outcome === 'completed'), 10_000);
    expect(session.receivedMessages.some((m) => m.kind === 'realtimeInput' && JSON.stringify(m).includes(restaurantGreetingCue()))).toBe(true);
    await twilio.waitForPlayoutIdle(10_000);
    const greetingTurn = session.modelTurns[0]!;
    const greetingMs = (greetingTurn.audioSamples / 24_000) * 1000;
    expect(twilio.heardAudio.length / 8).toBeGreaterThanOrEqual(greetingMs - 1);
    expect(twilio.heardAudio.length / 8).toBeLessThanOrEqual(greetingMs + 20); // at most one padded frame
    expect(twilio.marksEchoed.length).toBeGreaterThan(0);
    expect(twilio.marksEchoed.every((mark) => mark.outcome === 'played')).toBe(true);

    // The caller asks a question; the model hears it as one turn and answers.
    const question = loadSpeechFixture('booking-question');
    const heardBefore = twilio.heardAudio.length;
    await twilio.playCallerAudio(question);
    await session.waitUntil((s) => s.turns.some((turn) => turn.source === 'audio'), 5_000);
    const callerTurn = session.turns.find((turn) => turn.source === 'audio')!;
    const speechMs = callerTurn.audioEndMs! - callerTurn.audioStartMs!;
    expect(speechMs).toBeGreaterThan(3_000); // the fixture holds ~4.2 s of speech after 200 ms of silence
    expect(speechMs).toBeLessThan(4_800);

    await session.waitUntil((s) => s.modelTurns.filter((turn) => turn.outcome === 'completed').length === 2, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const answerMs = (session.modelTurns[1]!.audioSamples / 24_000) * 1000;
    expect((twilio.heardAudio.length - heardBefore) / 8).toBeGreaterThanOrEqual(answerMs - 1);

    // Hang-up: Twilio sends stop; the Gemini session must close at once.
    await twilio.hangUp();
    const closed = await session.closed;
    expect(closed.initiatedBy).toBe('client');
    expect(twilio.violations).toEqual([]);

    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ endReason: 'caller-hung-up', interruptions: 0, agentTurns: 2 });
    expect(summary.callerAudioSeconds).toBeGreaterThan(4);
    expect(summary.agentAudioHeardSeconds).toBeCloseTo((greetingMs + answerMs) / 1000, 0);
    expect(summary.streamStartToFirstAgentAudioMs).toBeGreaterThan(0);
    expect(bridge.app.calls.size).toBe(0);
  });

  // A model that takes SLOW_SETUP_MS to set up: a session opened at the stream's start could not have audio out
  // sooner than that after it (timers never fire early), so the bound holds however busy the machine is.
  it('opens the Gemini session at the webhook, so the greeting is waiting when the stream starts', async () => {
    const sessionIndex = bridge.gemini.sessions.length;
    slowSetupFromSession = sessionIndex;
    const { callSid, twiml } = await bridge.ringWebhook();
    const session = await bridge.gemini.waitForSession(sessionIndex);
    // Twilio connects the stream a moment after the webhook; by then the greeting is being generated.
    await session.waitUntil((s) => s.modelTurns[0]?.firstOutputAtMs !== undefined, 5_000);
    const twilio = await bridge.openStream(callSid, twiml);
    const firstAudioAtMs = await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    expect(firstAudioAtMs - twilio.streamStartedAtMs!).toBeLessThan(SLOW_SETUP_MS);
    await twilio.hangUp();
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary.greetingPrepared).toBe(true);
    expect(summary.streamStartToFirstAgentAudioMs).toBeLessThan(SLOW_SETUP_MS);
    expect(bridge.gemini.sessions.length).toBe(sessionIndex + 1);
  });

  it('serves health and readiness', async () => {
    const health = await fetch(`${bridge.app.localUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${bridge.app.localUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  // Its own call and its own refusals, checked on the lines they wrote: it passes or fails alone, in any order.
  it('never logs secrets or phone numbers', async () => {
    const from = '+14155550123';
    const logStart = bridge.logText().length;
    const refused = await postVoiceWebhook({
      serverUrl: bridge.app.localUrl,
      publicUrl: PUBLIC_URL,
      authToken: 'not-the-auth-token',
      params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID, From: from }),
    });
    expect(refused.status).toBe(403);
    const { callSid, twiml } = await bridge.ringWebhook({ From: from });
    const twilio = await bridge.openStream(callSid, twiml);
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await twilio.hangUp();
    await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);

    const text = bridge.logText().slice(logStart);
    expect(text).toContain(callSid); // the call's own lines are among those checked
    expect(text).toContain('+1********23'); // its caller, masked
    expect(text).not.toContain(from);
    expect(text).not.toContain('5550123');
    expect(text).not.toMatch(/\+1\d{10}/);
    expect(text).not.toContain(GEMINI_TEST_KEY);
    expect(text).not.toContain(TEST_AUTH_TOKEN);
    expect(text).not.toContain(twiml.parameters.streamToken!);
  });
});
