/**
 * `npm run configure-number` against the fake Twilio REST API, through the real twilio-node client: the number's
 * voice webhook is set once, a second run changes nothing, and the failures operators meet read clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureNumberCommand } from '../../scripts/configure-number.js';
import { startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioRestApi } from '../fakes/twilio/index.js';
import { captureOutput, runScript } from '../support/run-script.js';

const PUBLIC_URL = 'https://agent.example.test';
const VOICE_URL = `${PUBLIC_URL}/voice`;

describe('npm run configure-number', () => {
  let rest: FakeTwilioRestApi;
  const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
    PUBLIC_URL,
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_API_BASE_URL: rest.baseUrl,
    ...overrides,
  });
  const numberRequests = () => rest.requests.filter((request) => request.path.includes('/IncomingPhoneNumbers'));

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
  });
  afterAll(async () => rest.close());

  it('points the number at PUBLIC_URL/voice with POST, then finds nothing to change on a second run', async () => {
    const number = rest.addIncomingNumber({ phoneNumber: '+14155550100' });
    // A number the partial PhoneNumber filter also matches, listed first (newest): only the exact one may change.
    const lookalike = rest.addIncomingNumber({ phoneNumber: '+141555501009' });
    const before = numberRequests().length;

    const first = captureOutput();
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550100' }), first.output)).toBe(0);
    expect(first.stdout()).toBe(`✔ +14155550100 now sends its calls to ${VOICE_URL} (HTTP POST). Before, it used https://demo.twilio.com/welcome/voice/ (POST).`);
    expect(first.stderr()).toBe('');
    const [list, update] = numberRequests().slice(before);
    expect(list).toMatchObject({ method: 'GET', authorized: true, query: { PhoneNumber: '+14155550100' }, responseStatus: 200 });
    expect(update).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/IncomingPhoneNumbers/${number.sid}.json`, responseStatus: 200 });
    expect(update?.form).toEqual({ VoiceUrl: VOICE_URL, VoiceMethod: 'POST' });
    expect(rest.getIncomingNumber('+14155550100')).toMatchObject({ voiceUrl: VOICE_URL, voiceMethod: 'POST' });
    expect(lookalike.voiceUrl).toBe('https://demo.twilio.com/welcome/voice/');

    const second = captureOutput();
    const beforeSecond = numberRequests().length;
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550100' }), second.output)).toBe(0);
    expect(second.stdout()).toBe(`✔ +14155550100 already sends its calls to ${VOICE_URL} (HTTP POST): nothing to change.`);
    expect(numberRequests().slice(beforeSecond).map((request) => request.method)).toEqual(['GET']);
  });

  it('switches a number from GET to POST, and detaches a TwiML App that would override the voice URL', async () => {
    rest.addIncomingNumber({ phoneNumber: '+14155550111', voiceUrl: VOICE_URL, voiceMethod: 'GET' });
    const app = `AP${'c'.repeat(32)}`;
    rest.addIncomingNumber({ phoneNumber: '+14155550112', voiceUrl: VOICE_URL, voiceApplicationSid: app });

    const get = captureOutput();
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550111' }), get.output)).toBe(0);
    expect(get.stdout()).toContain(`Before, it used ${VOICE_URL} (GET)`);
    expect(rest.getIncomingNumber('+14155550111')?.voiceMethod).toBe('POST');

    const withApp = captureOutput();
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550112' }), withApp.output)).toBe(0);
    expect(withApp.stdout()).toContain(`Before, it used the TwiML App ${app} (now detached from the number)`);
    expect(rest.requests.at(-1)?.form).toEqual({ VoiceUrl: VOICE_URL, VoiceMethod: 'POST', VoiceApplicationSid: '' });
    expect(rest.getIncomingNumber('+14155550112')?.voiceApplicationSid).toBe('');
  });

  it('warns when a SIP trunk, not the webhook, receives the number\'s calls', async () => {
    rest.addIncomingNumber({ phoneNumber: '+14155550113', trunkSid: `TK${'d'.repeat(32)}` });
    const run = captureOutput();
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550113' }), run.output)).toBe(0);
    expect(run.stderr()).toMatch(/^! \+14155550113 is routed to the Elastic SIP trunk TKd+: .*Remove the number from the trunk/);
  });

  it('names the account and lists its numbers when the number is not in it, and changes nothing', async () => {
    const before = numberRequests().length;
    const run = captureOutput();
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550199' }), run.output)).toBe(1);
    expect(run.stdout()).toBe('');
    expect(run.stderr()).toMatch(new RegExp(`^✖ Could not configure \\+14155550199: \\+14155550199 is not a phone number of Twilio account ${TEST_ACCOUNT_SID}\\. Its numbers are: `));
    expect(run.stderr()).toContain('+14155550100');
    expect(run.stderr()).toContain('Check TWILIO_PHONE_NUMBER');
    expect(numberRequests().slice(before).every((request) => request.method === 'GET')).toBe(true);
  });

  it('says which credentials to check when Twilio answers 401, without printing them', async () => {
    const wrongToken = 'e'.repeat(32);
    const run = captureOutput();
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550100', TWILIO_AUTH_TOKEN: wrongToken }), run.output)).toBe(1);
    expect(rest.requests.at(-1)).toMatchObject({ authorized: false, responseStatus: 401 });
    expect(run.stderr()).toMatch(/Twilio refused the credentials \(HTTP 401, error 20003\): TWILIO_ACCOUNT_SID \(AC[0-9a-f]{32}\) and TWILIO_AUTH_TOKEN do not match/);
    expect(run.all()).not.toContain(wrongToken);
  });

  it('reports an unreachable API, and settings that are missing, before anything else', async () => {
    const unreachable = captureOutput();
    expect(await configureNumberCommand(env({ TWILIO_PHONE_NUMBER: '+14155550100', TWILIO_API_BASE_URL: 'http://127.0.0.1:9' }), unreachable.output)).toBe(1);
    expect(unreachable.stderr()).toMatch(/Twilio could not be reached \(ECONNREFUSED\): check the network, or TWILIO_API_BASE_URL/);

    const missing = captureOutput();
    expect(await configureNumberCommand({ TWILIO_API_BASE_URL: rest.baseUrl }, missing.output)).toBe(1);
    for (const name of ['PUBLIC_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_PHONE_NUMBER']) expect(missing.stderr()).toContain(`${name} is required`);
  });

  it('works as a command: exit code and output of `tsx scripts/configure-number.ts`', async () => {
    rest.addIncomingNumber({ phoneNumber: '+14155550120' });
    const first = await runScript('configure-number', [], env({ TWILIO_PHONE_NUMBER: '+14155550120' }));
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`✔ +14155550120 now sends its calls to ${VOICE_URL} (HTTP POST).`);
    const unknown = await runScript('configure-number', [], env({ TWILIO_PHONE_NUMBER: '+14155550121' }));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('+14155550121 is not a phone number of Twilio account');
  });
});
