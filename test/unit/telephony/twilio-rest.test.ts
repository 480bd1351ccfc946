import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CUES } from '../../../src/agents/agent.js';
import { createTwilioCallControl, dialTwiml, rebase, TwilioRestError } from '../../../src/telephony/twilio-rest.js';
import { newCallSid, startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioRestApi } from '../../fakes/twilio/index.js';

describe('Twilio REST call control (twilio-node against the fake Calls resource)', () => {
  let rest: FakeTwilioRestApi;

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
  });
  afterAll(async () => rest.close());

  const control = () => createTwilioCallControl({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: rest.baseUrl });

  it('hangs up with Status=completed on the Calls resource, authenticated as the account', async () => {
    const sid = newCallSid();
    rest.addCall({ sid });
    expect(await control().hangUp(sid)).toBe('updated');
    const request = rest.requests.at(-1)!;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls/${sid}.json`,
      authorized: true,
      form: { Status: 'completed' },
      responseStatus: 200,
    });
    expect(request.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(rest.getCall(sid)?.status).toBe('completed');
  });

  it('treats a call that has already ended, or never existed, as hung up', async () => {
    const sid = newCallSid();
    rest.addCall({ sid });
    await control().hangUp(sid);
    expect(await control().hangUp(sid)).toBe('already-ended');
    expect(rest.requests.at(-1)?.responseStatus).toBe(404);
    expect(await control().hangUp(newCallSid())).toBe('already-ended');
  });

  it('redirects a call to inline TwiML', async () => {
    const sid = newCallSid();
    rest.addCall({ sid });
    const twiml = dialTwiml('+14155550199', DEFAULT_CUES.transferNotAnswered);
    expect(await control().redirect(sid, twiml)).toBe('updated');
    expect(rest.requests.at(-1)?.form).toEqual({ Twiml: twiml });
    expect(rest.getCall(sid)?.twiml).toBe(twiml);
    expect(rest.getCall(sid)?.status).toBe('in-progress');
  });

  it('fails with the status and code, and nothing of the credentials, when Twilio refuses', async () => {
    const sid = newCallSid();
    rest.addCall({ sid });
    const wrong = createTwilioCallControl({ accountSid: TEST_ACCOUNT_SID, authToken: 'f'.repeat(32), apiBaseUrl: rest.baseUrl });
    const error = await wrong.hangUp(sid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TwilioRestError);
    expect(error).toMatchObject({ status: 401, code: 20003 });
    expect(JSON.stringify(error)).not.toContain('f'.repeat(32));
    expect(rest.getCall(sid)?.status).toBe('in-progress');
  });

  it('reports an unreachable server without leaking the Authorization header', async () => {
    const unreachable = createTwilioCallControl({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: 'http://127.0.0.1:9', timeoutMs: 2_000 });
    const error = (await unreachable.hangUp(newCallSid()).catch((e: unknown) => e)) as TwilioRestError;
    expect(error).toBeInstanceOf(TwilioRestError);
    expect(error.message).toMatch(/could not be reached/);
    const serialized = JSON.stringify({ ...error, message: error.message, stack: error.stack });
    expect(serialized).not.toContain(TEST_AUTH_TOKEN);
    expect(serialized).not.toContain(Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64'));
  });

  it('refuses a malformed call SID before any request', async () => {
    const before = rest.requests.length;
    await expect(control().hangUp('CA../../Accounts')).rejects.toThrow(/not a Twilio call SID/);
    expect(rest.requests.length).toBe(before);
  });
});

describe('rebase', () => {
  it('keeps the path and query under another origin and path prefix', () => {
    const uri = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Calls/CA1.json?x=1';
    expect(rebase(uri, new URL('http://127.0.0.1:4010'))).toBe('http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Calls/CA1.json?x=1');
    expect(rebase(uri, new URL('https://proxy.corp.example/twilio/'))).toBe('https://proxy.corp.example/twilio/2010-04-01/Accounts/AC1/Calls/CA1.json?x=1');
  });
});

describe('dialTwiml', () => {
  it('dials an E.164 number, then apologises if nobody answers', () => {
    expect(dialTwiml('+14155550199', DEFAULT_CUES.transferNotAnswered)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+14155550199</Dial><Say>Sorry, nobody could take your call right now. Please try again later. Goodbye.</Say></Response>',
    );
  });

  it('refuses anything that is not E.164, markup included', () => {
    for (const bad of ['4155550199', '+1 415 555 0199', '+0123456', '+1415</Dial><Hangup/>', '']) {
      expect(() => dialTwiml(bad, DEFAULT_CUES.transferNotAnswered)).toThrow(/E\.164/);
    }
  });
});
