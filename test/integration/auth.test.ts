import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { START_TIMEOUT_MS } from '../../src/telephony/media-stream-server.js';
import {
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  TwilioHandshakeError,
  computeTwilioSignature,
  defaultVoiceWebhookParams,
  newAccountSid,
  newCallSid,
  parseConnectStreamTwiml,
  postVoiceWebhook,
} from '../fakes/twilio/index.js';
import { PUBLIC_URL, sleep, startBridge, type Bridge } from '../support/bridge-harness.js';

/**
 * Nobody can open a paid Gemini session without a real, signed Twilio call: a refused webhook opens
 * none, and no refused stream ever opens one beyond the session its signed webhook opened.
 */
describe('authentication of webhooks and media streams', () => {
  let bridge: Bridge;

  beforeAll(async () => {
    bridge = await startBridge({ gemini: { replies: () => ({ text: 'Hello.' }) } });
  });
  afterAll(async () => bridge.stop());

  const geminiSessions = () => bridge.gemini.sessions.length;
  // Instant greeting: each signed webhook answered with a stream opens its call's session at once.
  // A refused stream must never open another one.
  const answeredWebhooks = () => bridge.logs.filter((line) => line.msg === 'call answered with a media stream').length;
  const webhook = (options: { signature?: string | null; params?: Record<string, string> }) =>
    postVoiceWebhook({ serverUrl: bridge.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID }), ...options });

  describe('POST /voice', () => {
    it('refuses a missing or wrong X-Twilio-Signature with 403 and no TwiML', async () => {
      for (const signature of [null, 'bm90IGEgc2lnbmF0dXJl', computeTwilioSignature('wrong-token', `${PUBLIC_URL}/voice`, {})]) {
        const response = await webhook({ signature });
        expect(response.status).toBe(403);
        expect(response.body).not.toContain('<Stream');
      }
    });

    it('refuses a signature made over another URL (the local one, as a misconfigured proxy would)', async () => {
      const response = await postVoiceWebhook({
        serverUrl: bridge.app.localUrl,
        publicUrl: bridge.app.localUrl,
        authToken: TEST_AUTH_TOKEN,
        params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID }),
      });
      expect(response.status).toBe(403);
    });

    it('refuses tampered parameters', async () => {
      const params = defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID });
      const signature = computeTwilioSignature(TEST_AUTH_TOKEN, `${PUBLIC_URL}/voice`, params);
      const response = await postVoiceWebhook({
        serverUrl: bridge.app.localUrl,
        publicUrl: PUBLIC_URL,
        authToken: TEST_AUTH_TOKEN,
        params: { ...params, From: '+19005550000' },
        signature,
      });
      expect(response.status).toBe(403);
    });

    it('refuses a validly signed request for another account', async () => {
      const response = await webhook({ params: defaultVoiceWebhookParams({ AccountSid: newAccountSid() }) });
      expect(response.status).toBe(400);
    });

    it('answers a signed call with <Connect><Stream> to the public wss URL and a token parameter', async () => {
      const { twiml } = await bridge.ringWebhook();
      expect(twiml.streamUrl).toBe(`wss://agent.example.test/media/${bridge.config.fleet.instanceId}`);
      expect(twiml.parameters.streamToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(twiml.verbs).toEqual(['Connect']);
    });
  });

  describe('/media WebSocket', () => {
    it('refuses an upgrade with a missing or wrong signature before any WebSocket exists', async () => {
      const { callSid, twiml } = await bridge.ringWebhook();
      for (const signature of [null, computeTwilioSignature(TEST_AUTH_TOKEN, 'https://agent.example.test/media', {})]) {
        const attempt = bridge.openStream(callSid, twiml, { signature });
        await expect(attempt).rejects.toBeInstanceOf(TwilioHandshakeError);
        await attempt.catch((error: TwilioHandshakeError) => expect(error.statusCode).toBe(403));
      }
      expect(geminiSessions()).toBe(answeredWebhooks());
    });

    it('refuses a start without the token, with a wrong token, or with a token of another call', async () => {
      const first = await bridge.ringWebhook();
      const second = await bridge.ringWebhook();
      const attempts = [
        bridge.openStream(first.callSid, { ...first.twiml, parameters: {} }),
        bridge.openStream(first.callSid, { ...first.twiml, parameters: { streamToken: 'A'.repeat(43) } }),
        bridge.openStream(first.callSid, second.twiml), // second call's token presented for the first call
        bridge.openStream(newCallSid(), first.twiml), // a CallSid no webhook saw
      ];
      for (const attempt of attempts) {
        const stream = await attempt;
        const closed = await stream.closed;
        expect(closed.code).toBe(1008);
      }
      expect(geminiSessions()).toBe(answeredWebhooks());
    });

    it('refuses a replayed token and a second stream for a live call', async () => {
      const { callSid, twiml } = await bridge.ringWebhook();
      const live = await bridge.openStream(callSid, twiml);
      await bridge.gemini.waitForSession(0);

      const duplicate = await bridge.openStream(callSid, twiml);
      expect((await duplicate.closed).code).toBe(1008);
      await live.hangUp();
      await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);

      const replay = await bridge.openStream(callSid, twiml);
      expect((await replay.closed).code).toBe(1008);
      expect(geminiSessions()).toBe(answeredWebhooks());
    });

    it('refuses a start for another account or in another audio format', async () => {
      const a = await bridge.ringWebhook();
      const foreign = await bridge.openStream(a.callSid, a.twiml, { accountSid: newAccountSid() });
      expect((await foreign.closed).code).toBe(1008);
      const b = await bridge.ringWebhook();
      const wrongFormat = await bridge.openStream(b.callSid, b.twiml, {
        start: (start) => ({ ...start, start: { ...start.start, mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 } } }),
      });
      expect((await wrongFormat.closed).code).toBe(1008);
      expect(geminiSessions()).toBe(answeredWebhooks());
    });

    it('closes a socket that sends media before start, garbage, or nothing at all', async () => {
      const { callSid, twiml } = await bridge.ringWebhook();
      const garbled = await bridge.openStream(callSid, twiml, { start: 'garbled' });
      expect((await garbled.closed).code).toBe(1007);

      const silent = await bridge.openStream(callSid, twiml, { start: 'skip', continuousSilence: false });
      const startedAt = Date.now();
      const closed = await silent.closed;
      expect(closed.code).toBe(1008);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(START_TIMEOUT_MS - 100);
      expect(Date.now() - startedAt).toBeLessThan(START_TIMEOUT_MS + 1_500);

      const early = await bridge.openStream(callSid, twiml, { start: 'skip' });
      const sentMediaAt = Date.now();
      early.startContinuousSilence(); // media before start
      expect((await early.closed).code).toBe(1008);
      expect(Date.now() - sentMediaAt).toBeLessThan(1_000);
      expect(geminiSessions()).toBe(answeredWebhooks());
    }, 15_000);

    it('closes a socket that sends an oversized message', async () => {
      const { callSid, twiml } = await bridge.ringWebhook();
      const stream = await bridge.openStream(callSid, twiml, { start: 'skip', continuousSilence: false });
      stream.sendRaw(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0', padding: 'x'.repeat(100_000) }));
      expect((await stream.closed).code).toBe(1009);
      await sleep(50);
      expect(geminiSessions()).toBe(answeredWebhooks());
    });
  });
});

describe('a replayed /voice webhook (Twilio signatures carry no nonce)', () => {
  let bridge: Bridge;
  beforeAll(async () => {
    bridge = await startBridge({ gemini: { replies: () => ({ text: 'Hello.' }) } });
  });
  afterAll(async () => {
    await bridge?.stop();
  });

  it('answers a replayed signed webhook (20 times) with the same TwiML and one Gemini session, then with a hang-up', async () => {
    const sessionsBefore = bridge.gemini.sessions.length;
    const first = await bridge.ringWebhook();
    const params = { CallSid: first.callSid };
    const repeats = await Promise.all(Array.from({ length: 19 }, () => postVoiceWebhook({ serverUrl: bridge.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID, ...params }) })));
    for (const repeat of repeats) expect(parseConnectStreamTwiml(repeat.body)).toEqual(first.twiml);
    await bridge.gemini.waitForSession(sessionsBefore);
    const twilio = await bridge.openStream(first.callSid, first.twiml);
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    expect(bridge.gemini.sessions.length).toBe(sessionsBefore + 1);
    // Once its stream has started, the call's webhook is answered with a hang-up: no second session.
    const late = await postVoiceWebhook({ serverUrl: bridge.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID, ...params }) });
    expect(late.body).toContain('<Hangup/>');
    expect(late.body).not.toContain('<Stream');
    expect(bridge.gemini.sessions.length).toBe(sessionsBefore + 1);
    await twilio.hangUp();
  });
});
