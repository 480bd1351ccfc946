/**
 * The fake REST API's IncomingPhoneNumbers and Calls-create resources, read through twilio-node itself: the SDK
 * must parse what the fake answers (pages, instances, errors) exactly as it parses Twilio's answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioClient } from '../../../src/telephony/twilio-rest.js';
import { startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioRestApi } from '../../fakes/twilio/index.js';

describe('fake Twilio REST API: IncomingPhoneNumbers and Calls create', () => {
  let rest: FakeTwilioRestApi;
  const client = () => createTwilioClient({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: rest.baseUrl });

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
    for (let i = 0; i < 7; i++) rest.addIncomingNumber({ phoneNumber: `+1415555020${i}` });
  });
  afterAll(async () => rest.close());

  it('pages a list: the SDK follows next_page_uri until every number is read', async () => {
    const numbers = await client().incomingPhoneNumbers.list({ phoneNumber: '+141555502', pageSize: 3 });
    expect(numbers.map((n) => n.phoneNumber).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `+1415555020${i}`));
    const pages = rest.requests.filter((r) => r.path.endsWith('/IncomingPhoneNumbers.json')).slice(-3);
    expect(pages.map((r) => r.query.Page ?? '0')).toEqual(['0', '1', '2']);
    expect(numbers[0]).toMatchObject({ accountSid: TEST_ACCOUNT_SID, voiceMethod: 'POST', voiceUrl: 'https://demo.twilio.com/welcome/voice/', voiceApplicationSid: '' });
    expect(numbers[0]?.sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(numbers[0]?.dateCreated).toBeInstanceOf(Date);
  });

  it('matches partial numbers, with * for any digit', async () => {
    expect((await client().incomingPhoneNumbers.list({ phoneNumber: '+1415555020*' })).length).toBe(7);
    expect((await client().incomingPhoneNumbers.list({ phoneNumber: '5550203' })).map((n) => n.phoneNumber)).toEqual(['+14155550203']);
    expect(await client().incomingPhoneNumbers.list({ phoneNumber: '+19995550100' })).toEqual([]);
  });

  it('creates an outbound call from one of the account\'s numbers, queued, direction outbound-api', async () => {
    const call = await client().calls.create({ to: '+442071838750', from: '+14155550200', url: 'https://agent.example.test/voice', statusCallback: 'https://agent.example.test/call-status' });
    expect(call).toMatchObject({ status: 'queued', direction: 'outbound-api', from: '+14155550200', to: '+442071838750' });
    expect(rest.requests.at(-1)).toMatchObject({ method: 'POST', responseStatus: 201 });
    // Without StatusCallbackEvent, Twilio reports only `completed`.
    expect(rest.getCall(call.sid)).toMatchObject({ url: 'https://agent.example.test/voice', method: 'POST', statusCallbackEvents: ['completed'] });
  });

  it('refuses calls as Twilio does: unknown From 21210, missing Url 21205, bad To 21211, bad credentials 20003', async () => {
    const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
    expect(await refusal(client().calls.create({ to: '+442071838750', from: '+14155550999', url: 'https://agent.example.test/voice' }))).toMatchObject({ status: 400, code: 21210 });
    expect(await refusal(client().calls.create({ to: '+442071838750', from: '+14155550200' } as never))).toMatchObject({ status: 400, code: 21205 });
    expect(await refusal(client().calls.create({ to: '+14155550200', from: '+14155550200', url: 'https://agent.example.test/voice' }))).toMatchObject({ status: 400, code: 21211 });
    const stranger = createTwilioClient({ accountSid: TEST_ACCOUNT_SID, authToken: 'f'.repeat(32), apiBaseUrl: rest.baseUrl });
    expect(await refusal(stranger.incomingPhoneNumbers.list({ limit: 1 }))).toMatchObject({ status: 401, code: 20003 });
    expect(rest.createdCalls).toHaveLength(1);
  });
});
