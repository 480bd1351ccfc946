/**
 * Outbound calls through the running server: `POST /calls` (API key, number, capacity and rate checks) and
 * `npm run call`, both placing the call on the fake Twilio REST API; then Twilio's side is played as it happens —
 * status callbacks, the voice webhook with Direction=outbound-api once the callee answers, the media stream — and
 * the model must get the outbound cue, not the inbound greeting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCommand, serverProblem } from '../../scripts/call.js';
import { DEFAULT_CUES } from '../../src/agents/agent.js';
import type { FakeReply } from '../fakes/gemini-live/server.js';
import { CALL_STATUS_EVENTS, OUTBOUND_RING_TIMEOUT_SECONDS } from '../../src/telephony/outbound-calls.js';
import { computeTwilioSignature, postVoiceWebhook, startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioRestApi } from '../fakes/twilio/index.js';
import { NO_AGENT_MESSAGE } from '../../src/telephony/voice-webhook.js';
import { captureOutput, freePort, runScript } from '../support/run-script.js';
import { PUBLIC_URL, restaurantGreetingCue, startBridge, startPlacingBridge, type Bridge } from '../support/bridge-harness.js';

const OUR_NUMBER = '+14155550100';
const CALLEE = '+14155550142';
const API_KEY = 'outbound-test-key-0123456789abcdef';
const INTRODUCTION = 'Hello, this is the Blue Door calling about your booking.';
const INBOUND_GREETING = 'Blue Door, how can I help?';

function script({ heardText }: { heardText?: string }): FakeReply | undefined {
  if (heardText === DEFAULT_CUES.outboundGreeting) return { text: INTRODUCTION };
  if (heardText === restaurantGreetingCue()) return { text: INBOUND_GREETING };
  return undefined;
}

interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function postCalls(bridge: Bridge, body: string, headers: Record<string, string>): Promise<ApiAnswer> {
  const response = await fetch(`${bridge.app.localUrl}/calls`, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const authorized = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
const callTo = (bridge: Bridge, to: unknown) => postCalls(bridge, JSON.stringify({ to }), authorized);

/** Twilio's status callback for a call we placed, signed over PUBLIC_URL/call-status. */
function postCallStatus(bridge: Bridge, callSid: string, callStatus: string, signature?: string | null) {
  return postVoiceWebhook({
    serverUrl: bridge.app.localUrl,
    publicUrl: PUBLIC_URL,
    authToken: TEST_AUTH_TOKEN,
    path: '/call-status',
    params: { CallSid: callSid, CallStatus: callStatus, Direction: 'outbound-api', From: OUR_NUMBER, To: CALLEE, Caller: OUR_NUMBER, Called: CALLEE, CallbackSource: 'call-progress-events', SequenceNumber: '0' },
    ...(signature === undefined ? {} : { signature }),
  });
}

describe('outbound calls', () => {
  let rest: FakeTwilioRestApi;
  let bridge: Bridge;

  beforeAll(async () => {
    ({ rest, bridge } = await startPlacingBridge(OUR_NUMBER, API_KEY, { gemini: { replies: script } }));
  });
  afterAll(async () => {
    await bridge.stop();
    await rest.close();
  });

  describe('POST /calls refusals', () => {
    it('refuses a missing, malformed or wrong API key with 401 before reading the body, and places nothing', async () => {
      const before = rest.requests.length;
      for (const authorization of [undefined, API_KEY, `Basic ${API_KEY}`, 'Bearer ', `Bearer ${API_KEY}x`, `Bearer ${API_KEY.slice(0, -1)}`]) {
        const answer = await postCalls(bridge, JSON.stringify({ to: CALLEE }), { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) });
        expect(answer.status, String(authorization)).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="outbound-calls"');
        expect(answer.body.error).toMatch(/API key/);
      }
      // The body is not even parsed without the key: malformed JSON gets the same 401.
      expect((await postCalls(bridge, '{not json', { 'content-type': 'application/json' })).status).toBe(401);
      expect(rest.requests.length).toBe(before);
      expect(bridge.logText()).not.toContain(API_KEY.slice(0, -1));
    });

    it('refuses what is not a call request to an E.164 number other than ours, with 400 or 415', async () => {
      const before = rest.requests.length;
      for (const to of [undefined, '', 4155550142, '4155550142', '+1 415 555 0142', OUR_NUMBER]) {
        const answer = await callTo(bridge, to);
        expect(answer.status, JSON.stringify(to)).toBe(400);
        expect(answer.body.error).toMatch(/^Expected \{"to": "\+14155550100", "agent"\?: "name"\}: /);
      }
      expect((await postCalls(bridge, '{"to": ', authorized)).body).toEqual({ error: 'The body is not valid JSON.' });
      expect((await postCalls(bridge, '[1]', authorized)).status).toBe(400);
      expect((await postCalls(bridge, JSON.stringify({ to: CALLEE, note: 'x'.repeat(2_000) }), authorized)).status).toBe(413);
      expect((await postCalls(bridge, `to=${CALLEE}`, { authorization: authorized.authorization, 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
      expect(rest.requests.length).toBe(before);
    });

    it('refuses an agent that does not exist, naming the agents there are, and places nothing', async () => {
      const before = rest.requests.length;
      const unknown = await postCalls(bridge, JSON.stringify({ to: CALLEE, agent: 'dental' }), authorized);
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toBe('No agent named "dental"; the agents are: restaurant');
      const notAName = await postCalls(bridge, JSON.stringify({ to: CALLEE, agent: 42 }), authorized);
      expect(notAName.status).toBe(400);
      expect(notAName.body.error).toMatch(/"agent" must be the name of an agent/);
      expect(rest.requests.length).toBe(before);
    });

    it('answers a placed call whose webhook names no agent of ours with the no-agent message, and opens no model session', async () => {
      const sessions = bridge.gemini.sessions.length;
      const answer = await postVoiceWebhook({
        serverUrl: bridge.app.localUrl,
        publicUrl: PUBLIC_URL,
        authToken: TEST_AUTH_TOKEN,
        path: '/voice?agent=dental',
        params: { Direction: 'outbound-api', From: OUR_NUMBER, To: CALLEE, Caller: OUR_NUMBER, Called: CALLEE },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toContain(`<Say>${NO_AGENT_MESSAGE}</Say><Hangup/>`);
      expect(answer.body).not.toContain('<Stream');
      expect(bridge.gemini.sessions.length).toBe(sessions);
    });

    it('checks the signature over the webhook URL with its query: the agent cannot be swapped on the way', async () => {
      const params = { Direction: 'outbound-api', From: OUR_NUMBER, To: CALLEE, Caller: OUR_NUMBER, Called: CALLEE };
      const signedForDental = await postVoiceWebhook({ serverUrl: bridge.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, path: '/voice?agent=dental', params });
      const swapped = await postVoiceWebhook({
        serverUrl: bridge.app.localUrl,
        publicUrl: PUBLIC_URL,
        authToken: TEST_AUTH_TOKEN,
        path: '/voice?agent=restaurant',
        params: signedForDental.params,
        signature: computeTwilioSignature(TEST_AUTH_TOKEN, `${PUBLIC_URL}/voice?agent=dental`, signedForDental.params),
      });
      expect(swapped.status).toBe(403);
    });
  });

  it('places the call on Twilio, and when answered the agent opens with the outbound cue', async () => {
    const answer = await callTo(bridge, CALLEE);
    expect(answer.status).toBe(201);
    const callSid = answer.body.callSid as string;
    // Without "agent" the call is the default agent's (here the only one, the restaurant), and the answer says so.
    expect(answer.body).toEqual({ callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/), status: 'queued', agent: 'restaurant' });

    const request = rest.requests.find((r) => r.path === `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls.json`)!;
    expect(request).toMatchObject({ method: 'POST', authorized: true, responseStatus: 201 });
    expect(request.form).toMatchObject({
      To: CALLEE,
      From: OUR_NUMBER,
      // The agent rides in the webhook URL, which Twilio signs: it cannot be swapped on the way.
      Url: `${PUBLIC_URL}/voice?agent=restaurant`,
      Method: 'POST',
      StatusCallback: `${PUBLIC_URL}/call-status`,
      StatusCallbackMethod: 'POST',
      Timeout: String(OUTBOUND_RING_TIMEOUT_SECONDS),
    });
    expect(request.formValues.StatusCallbackEvent).toEqual([...CALL_STATUS_EVENTS]);

    // Twilio's side: progress callbacks, then the callee answers and Twilio fetches the TwiML.
    for (const status of ['initiated', 'ringing']) expect((await postCallStatus(bridge, callSid, status)).status).toBe(204);
    const sessionIndex = bridge.gemini.sessions.length;
    const created = rest.getCall(callSid)!;
    const { twiml } = await bridge.ringWebhook({
      CallSid: callSid,
      Direction: created.direction,
      From: created.from,
      To: created.to,
      Caller: created.from,
      Called: created.to,
      CallStatus: 'in-progress',
    }, new URL(created.url!).pathname + new URL(created.url!).search);
    const twilio = await bridge.openStream(callSid, twiml);
    const session = await bridge.gemini.waitForSession(sessionIndex);
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
    expect(session.turns.map((turn) => turn.heardText)).toEqual([DEFAULT_CUES.outboundGreeting]);
    expect(session.modelTurns[0]?.reply.text).toBe(INTRODUCTION);
    await twilio.waitForPlayoutIdle(10_000);
    expect(twilio.heardAudio.length).toBeGreaterThan(8_000); // over a second of the introduction reached the callee
    expect((await postCallStatus(bridge, callSid, 'in-progress')).status).toBe(204);
    await twilio.hangUp();
    expect((await postCallStatus(bridge, callSid, 'completed')).status).toBe(204);

    const started = await bridge.waitForLog((line) => line.msg === 'call started' && line.callSid === callSid);
    expect(started).toMatchObject({ direction: 'outbound', agent: 'restaurant', to: '+1********42' }); // the call's own direction (CallDetails), not Twilio's
    const statuses = bridge.logs.filter((line) => line.msg === 'call status' && line.callSid === callSid).map((line) => line.status);
    expect(statuses).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(bridge.logs.find((line) => line.msg === 'outbound call placed through the Twilio REST API')).toMatchObject({ callSid, to: '+1********42' });
    // Neither the callee's number nor any secret is in the log.
    for (const secret of [CALLEE, API_KEY, TEST_AUTH_TOKEN]) expect(bridge.logText()).not.toContain(secret);
  });

  it('still greets an inbound call with the inbound greeting cue', async () => {
    const sessionIndex = bridge.gemini.sessions.length;
    const { twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(sessionIndex);
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
    expect(session.turns.map((turn) => turn.heardText)).toEqual([restaurantGreetingCue()]);
    await twilio.hangUp();
  });

  it('refuses unsigned status callbacks', async () => {
    const answer = await postCallStatus(bridge, `CA${'0'.repeat(32)}`, 'ringing', null);
    expect(answer.status).toBe(403);
  });

  describe('npm run call', () => {
    const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
      PUBLIC_URL,
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      TWILIO_API_BASE_URL: rest.baseUrl,
      TWILIO_PHONE_NUMBER: OUR_NUMBER,
      ...overrides,
    });

    it('places the call with the webhook and status callback under PUBLIC_URL, accepting the number as people write it', async () => {
      const run = captureOutput();
      expect(await callCommand(['+44 (20) 7183-8750', '--skip-check'], env(), run.output)).toBe(0);
      const created = rest.createdCalls.at(-1)!;
      expect(created).toMatchObject({
        to: '+442071838750',
        from: OUR_NUMBER,
        direction: 'outbound-api',
        // No --agent: the default agent of AGENT (unset: the restaurant example), named in the signed URL.
        url: `${PUBLIC_URL}/voice?agent=restaurant`,
        method: 'POST',
        statusCallback: `${PUBLIC_URL}/call-status`,
        statusCallbackEvents: [...CALL_STATUS_EVENTS],
      });
      expect(run.stdout()).toContain(`✔ Twilio accepted the call: ${created.sid} (queued).`);
      expect(run.stderr()).toBe('');
    });

    it('places the call for the agent named with --agent, and refuses a name no agent can have', async () => {
      const run = captureOutput();
      expect(await callCommand([CALLEE, '--agent', 'dental', '--skip-check'], env(), run.output)).toBe(0);
      expect(rest.createdCalls.at(-1)).toMatchObject({ to: CALLEE, url: `${PUBLIC_URL}/voice?agent=dental` });
      expect(run.stdout()).toContain('(agent dental)');

      const before = rest.requests.length;
      const bad = captureOutput();
      expect(await callCommand([CALLEE, '--agent', 'den tal&x=1', '--skip-check'], env(), bad.output)).toBe(1);
      expect(bad.stderr()).toMatch(/^✖ --agent must be an agent's name/);
      expect(rest.requests.length).toBe(before);
    });

    it('does not call when the server at PUBLIC_URL does not answer', async () => {
      const before = rest.requests.length;
      const closedPort = await freePort();
      const run = captureOutput();
      expect(await callCommand([CALLEE], env({ PUBLIC_URL: `https://127.0.0.1:${closedPort}` }), run.output)).toBe(1);
      expect(run.stderr()).toMatch(new RegExp(`^✖ Not calling: https://127\\.0\\.0\\.1:${closedPort}/healthz cannot be reached \\(ECONNREFUSED\\)\\.`));
      expect(rest.requests.length).toBe(before);
    });

    it('checks that it is this service that answers at PUBLIC_URL', async () => {
      expect(await serverProblem(new URL(bridge.app.localUrl))).toBeUndefined();
      expect(await serverProblem(new URL(rest.baseUrl))).toMatch(/answered HTTP 401, not this service/);
    });

    it('refuses a malformed number, and explains Twilio\'s refusal of the caller ID', async () => {
      const malformed = captureOutput();
      expect(await callCommand(['4155550142', '--skip-check'], env(), malformed.output)).toBe(1);
      expect(malformed.stderr()).toBe('✖ the number to call must be in E.164 format: + and country code, digits only, e.g. +14155550100 (start with + and the country code).');

      const notOurs = captureOutput();
      expect(await callCommand([CALLEE, '--skip-check'], env({ TWILIO_PHONE_NUMBER: '+14155550177' }), notOurs.output)).toBe(1);
      expect(notOurs.stderr()).toMatch(/^✖ Twilio refused the call \(error 21210\): .*TWILIO_PHONE_NUMBER \(\+14155550177\) must be a voice-capable number of this account\.$/);

      const usage = captureOutput();
      expect(await callCommand([], env(), usage.output)).toBe(1);
      expect(usage.stderr()).toContain('Usage: npm run call -- +15551234567');
    });

    it('works as a command: `tsx scripts/call.ts +1… --skip-check`', async () => {
      const result = await runScript('call', [CALLEE, '--skip-check'], env());
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`✔ Twilio accepted the call: ${rest.createdCalls.at(-1)!.sid} (queued).`);
    });
  });
});

describe('POST /calls limits', () => {
  let rest: FakeTwilioRestApi;
  let bridge: Bridge;

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
    rest.addIncomingNumber({ phoneNumber: OUR_NUMBER });
    bridge = await startBridge({
      gemini: { replies: script },
      env: { TWILIO_API_BASE_URL: rest.baseUrl, TWILIO_PHONE_NUMBER: OUR_NUMBER, OUTBOUND_API_KEY: API_KEY, OUTBOUND_CALLS_PER_MINUTE: '3', MAX_CONCURRENT_CALLS: '1' },
    });
  });
  afterAll(async () => {
    await bridge.stop();
    await rest.close();
  });

  it('holds a line for a ringing call, gives it to that call when answered, frees it when unanswered, and caps placements per minute', async () => {
    const first = await callTo(bridge, CALLEE);
    expect(first.status).toBe(201);
    const firstSid = first.body.callSid as string;

    // The first call is ringing: the only line is taken, for placements and inbound calls alike.
    const busy = await callTo(bridge, CALLEE);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('30');
    expect(rest.createdCalls).toHaveLength(1);
    const inbound = await postVoiceWebhook({ serverUrl: bridge.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN });
    expect(inbound.body).toContain('<Say>');
    expect(inbound.body).not.toContain('<Stream');

    // Answered: the line held for it is its own, not a reason to refuse it.
    const { twiml } = await bridge.ringWebhook({ CallSid: firstSid, Direction: 'outbound-api', From: OUR_NUMBER, To: CALLEE, Caller: OUR_NUMBER, Called: CALLEE });
    expect(twiml.streamUrl).toBe(`wss://agent.example.test/media/${bridge.config.fleet.instanceId}`);
    const twilio = await bridge.openStream(firstSid, twiml);
    expect((await callTo(bridge, CALLEE)).status).toBe(503); // still the only line
    await twilio.hangUp();
    await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === firstSid);

    // A call nobody answers frees its line on the final status callback.
    const second = await callTo(bridge, CALLEE);
    expect(second.status).toBe(201);
    expect((await callTo(bridge, CALLEE)).status).toBe(503);
    expect((await postCallStatus(bridge, second.body.callSid as string, 'no-answer')).status).toBe(204);
    const third = await callTo(bridge, CALLEE);
    expect(third.status).toBe(201);
    expect((await postCallStatus(bridge, third.body.callSid as string, 'failed')).status).toBe(204);

    // Three placements in the last minute: the fourth waits.
    const fourth = await callTo(bridge, CALLEE);
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(fourth.body.error).toMatch(/OUTBOUND_CALLS_PER_MINUTE/);
    expect(rest.createdCalls).toHaveLength(3);
  });
});

describe('POST /calls without OUTBOUND_API_KEY', () => {
  let bridge: Bridge;

  beforeAll(async () => {
    bridge = await startBridge({ env: { TWILIO_PHONE_NUMBER: OUR_NUMBER } });
  });
  afterAll(async () => bridge.stop());

  it('does not exist: 404 whatever the request', async () => {
    for (const headers of [authorized, { 'content-type': 'application/json' }, { authorization: 'Bearer ', 'content-type': 'application/json' }]) {
      const answer = await postCalls(bridge, JSON.stringify({ to: CALLEE }), headers);
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ text: 'Not found' });
    }
  });
});
