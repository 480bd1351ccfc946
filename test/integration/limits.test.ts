import { afterEach, describe, expect, it } from 'vitest';
import { BUSY_MESSAGE } from '../../src/telephony/voice-webhook.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, defaultVoiceWebhookParams, loadSpeechFixture, postVoiceWebhook } from '../fakes/twilio/index.js';
import { PUBLIC_URL, sleep, startBridge, type Bridge } from '../support/bridge-harness.js';

describe('call limits', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  const rawWebhook = (b: Bridge) =>
    postVoiceWebhook({ serverUrl: b.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID }) });

  it('answers calls beyond MAX_CONCURRENT_CALLS with a polite busy message, no stream and no Gemini session', async () => {
    bridge = await startBridge({ env: { MAX_CONCURRENT_CALLS: '1' }, gemini: { replies: () => ({ text: 'Hello.' }) } });
    const first = await bridge.placeCall();
    await bridge.gemini.waitForSession(0);

    const busy = await rawWebhook(bridge);
    expect(busy.status).toBe(200);
    expect(busy.body).toContain(`<Say>${BUSY_MESSAGE}</Say><Hangup/>`);
    expect(busy.body).not.toContain('<Connect');

    await first.twilio.hangUp();
    await bridge.waitForLog((line) => line.msg === 'call ended');
    const answered = await rawWebhook(bridge);
    expect(answered.body).toMatch(/<Connect action="[^"]+" method="POST"><Stream/);
    // An answered call whose stream has not started yet holds its place.
    const meanwhile = await rawWebhook(bridge);
    expect(meanwhile.body).toContain(BUSY_MESSAGE);
    // Only the two calls answered with a stream have a Gemini session (opened at their webhook).
    await bridge.gemini.waitForSession(1);
    expect(bridge.gemini.sessions.length).toBe(2);
  });

  it('fills gaps in the caller audio timeline with silence so the model sees continuous time', async () => {
    bridge = await startBridge({ gemini: { replies: ({ source }) => ({ text: source === 'text' ? 'Hi.' : 'Yes?' }) } });
    const { callSid, twilio } = await bridge.placeCall({ continuousSilence: false });
    const session = await bridge.gemini.waitForSession(0);
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);

    const hello = loadSpeechFixture('short-hello');
    await twilio.playCallerAudio(hello);
    await sleep(1_200); // the phone leg sends nothing: media timestamps will jump
    await twilio.playCallerAudio(hello);
    await twilio.playSilence(700);
    await session.waitUntil((s) => s.turns.filter((t) => t.source === 'audio').length === 2, 5_000);

    // Two separate caller turns: the filled silence ended the first one, as a real line would.
    const [firstTurn, secondTurn] = session.turns.filter((t) => t.source === 'audio');
    expect(secondTurn!.audioStartMs! - firstTurn!.audioEndMs!).toBeGreaterThan(1_000);
    // The model's timeline equals the phone's: frames sent plus the gap, to the frame. The gap is read on the
    // stream's own clock (the jump in media.timestamp), not on the wall clock a busy machine stretches.
    const timestamps = twilio.sent.flatMap(({ message }) => (message.event === 'media' ? [Number(message.media.timestamp)] : []));
    const jumps = timestamps.slice(1).map((timestamp, i) => timestamp - timestamps[i]! - 20).filter((extra) => extra > 0);
    expect(jumps).toHaveLength(1); // the pause, and nothing else
    const pauseMs = jumps[0]!;
    expect(pauseMs).toBeGreaterThanOrEqual(1_100);
    const sentMs = twilio.callerFramesSent * 20;
    const gapMs = session.receivedAudio16k.seconds * 1000 - sentMs;
    expect(Math.abs(gapMs - pauseMs)).toBeLessThanOrEqual(20);
    await twilio.hangUp();
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    // (one frame may still have been in flight when the model side was measured)
    expect(Math.abs((summary.callerGapFilledSeconds as number) * 1000 - gapMs)).toBeLessThanOrEqual(20);
  });
});
