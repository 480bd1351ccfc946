/**
 * The fake Twilio's outbound pieces, read through twilio-node and checked against a plain HTTP server that verifies
 * every request with twilio-node's own validator: calls created with asynchronous answering machine detection and
 * their verdict callback, a call's Recordings and their status callbacks, `<Stream statusCallback>` and `<Dial>`
 * with a `<Number url>` whisper and its action.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioClient } from '../../../src/telephony/twilio-rest.js';
import { FakeTwilioCall, startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioRestApi } from '../../fakes/twilio/index.js';

const PUBLIC_URL = 'https://agent.example.test';
const OUR_NUMBER = '+14155550200';

interface Received {
  path: string;
  params: Record<string, string>;
  validSignature: boolean;
}

/** Answers each path with the TwiML (or status) the test sets, and records every request with its signature's validity. */
class TwimlServer {
  readonly received: Received[] = [];
  readonly answers = new Map<string, string | number>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req).then(([status, body]) => res.writeHead(status, { 'content-type': 'text/xml' }).end(body)));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage): Promise<[number, string]> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const params = Object.fromEntries(new URLSearchParams(body));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const signature = String(req.headers['x-twilio-signature'] ?? '');
    this.received.push({ path, params, validSignature: twilio.validateRequest(TEST_AUTH_TOKEN, signature, `${PUBLIC_URL}${req.url ?? ''}`, params) });
    const answer = this.answers.get(path) ?? 204;
    return typeof answer === 'number' ? [answer, ''] : [200, answer];
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('fake Twilio: outbound calls, recordings, stream status, warm transfers', () => {
  let rest: FakeTwilioRestApi;
  const server = new TwimlServer();
  const client = () => createTwilioClient({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: rest.baseUrl });

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
    rest.addIncomingNumber({ phoneNumber: OUR_NUMBER });
    await server.start();
    rest.deliverWebhooksTo(server.url);
  });
  afterAll(async () => {
    await rest.close();
    await server.close();
  });

  it('creates a call with asynchronous AMD and sends its verdict, signed, to the AMD status callback', async () => {
    const call = await client().calls.create({
      to: '+442071838750',
      from: OUR_NUMBER,
      url: `${PUBLIC_URL}/voice`,
      machineDetection: 'DetectMessageEnd',
      asyncAmd: 'true',
      asyncAmdStatusCallback: `${PUBLIC_URL}/amd-status`,
      asyncAmdStatusCallbackMethod: 'POST',
    });
    expect(rest.getCall(call.sid)).toMatchObject({ machineDetection: 'DetectMessageEnd', asyncAmdStatusCallback: `${PUBLIC_URL}/amd-status` });
    const delivered = await rest.sendAmdVerdict(call.sid, 'machine_end_beep', 4210);
    expect(delivered.status).toBe(204);
    expect(server.received.at(-1)).toEqual({
      path: '/amd-status',
      params: { AccountSid: TEST_ACCOUNT_SID, CallSid: call.sid, AnsweredBy: 'machine_end_beep', MachineDetectionDuration: '4210' },
      validSignature: true,
    });
    expect((await client().calls(call.sid).fetch()).answeredBy).toBe('machine_end_beep');
  });

  it('refuses bad AMD parameters, warns 21262 without a callback, and sends no verdict for a call that asked for none', async () => {
    const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
    expect(await refusal(client().calls.create({ to: '+442071838750', from: OUR_NUMBER, url: `${PUBLIC_URL}/voice`, machineDetection: 'Sometimes' }))).toMatchObject({ status: 400 });
    const silent = await client().calls.create({ to: '+442071838750', from: OUR_NUMBER, url: `${PUBLIC_URL}/voice`, machineDetection: 'Enable', asyncAmd: 'true' });
    expect(rest.warnings.at(-1)).toContain(`21262 No AMD status callback URL provided (call ${silent.sid})`);
    await expect(rest.sendAmdVerdict(silent.sid, 'human', 1000)).rejects.toThrow(/did not ask/);
  });

  it('records a call in progress in two channels, and reports the recording in progress, then completed with its URL', async () => {
    rest.addCall({ sid: `CA${'1'.repeat(32)}` });
    const recording = await client()
      .calls(`CA${'1'.repeat(32)}`)
      .recordings.create({ recordingChannels: 'dual', recordingStatusCallback: `${PUBLIC_URL}/recording-status`, recordingStatusCallbackEvent: ['in-progress', 'completed'] });
    expect(recording).toMatchObject({ status: 'in-progress', channels: 2, callSid: `CA${'1'.repeat(32)}` });
    expect(recording.sid).toMatch(/^RE[0-9a-f]{32}$/);
    await waitUntil(() => server.received.some((r) => r.path === '/recording-status' && r.params.RecordingStatus === 'in-progress'));
    rest.completeCall(`CA${'1'.repeat(32)}`);
    await waitUntil(() => server.received.some((r) => r.path === '/recording-status' && r.params.RecordingStatus === 'completed'));
    const completed = server.received.find((r) => r.path === '/recording-status' && r.params.RecordingStatus === 'completed')!;
    expect(completed.validSignature).toBe(true);
    expect(completed.params).toMatchObject({
      RecordingSid: recording.sid,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/${recording.sid}`,
      RecordingChannels: '2',
      RecordingSource: 'StartCallRecordingAPI',
      RecordingDuration: expect.stringMatching(/^\d+$/),
    });
    // A call that has ended cannot be recorded.
    await expect(client().calls(`CA${'1'.repeat(32)}`).recordings.create({})).rejects.toMatchObject({ status: 400, code: 21220 });
  });

  it('runs <Dial><Number url>: the whisper and its <Gather> on the dialled end, then the action with DialBridged', async () => {
    const transfer = new URL(`${PUBLIC_URL}/transfer`);
    server.answers.set('/voice', `<Response><Dial action="${transfer}/ended" timeout="5"><Number url="${transfer}/whisper?call=x">+14155550177</Number></Dial></Response>`);
    server.answers.set('/transfer/whisper', `<Response><Gather numDigits="1" action="${transfer}/accepted?call=x"><Say>A caller wants to move their booking.</Say><Say>Press any key to take the call.</Say></Gather><Hangup/></Response>`);
    server.answers.set('/transfer/accepted', '<Response/>');
    server.answers.set('/transfer/ended', '<Response><Hangup/></Response>');
    const accepted = await FakeTwilioCall.dial({ serverUrl: server.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, dialTargets: () => ({ answer: 'pick-up', pressKey: '1', talkMs: 50 }) });
    expect(await accepted.ended).toMatchObject({ reason: 'hangup-verb' });
    expect(accepted.dials[0]).toMatchObject({ number: '+14155550177', whisper: ['A caller wants to move their booking.', 'Press any key to take the call.'], digits: '1', status: 'completed' });
    expect(accepted.dials[0]!.bridgedAtMs).toBeDefined();
    const whisper = server.received.find((r) => r.path === '/transfer/whisper')!;
    expect(whisper).toMatchObject({ validSignature: true, params: { ParentCallSid: accepted.callSid, Direction: 'outbound-dial', To: '+14155550177' } });
    expect(server.received.find((r) => r.path === '/transfer/accepted')).toMatchObject({ validSignature: true, params: { Digits: '1' } });
    expect(accepted.actionRequests[0]!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true', DialCallSid: whisper.params.CallSid });

    // Nobody presses a key: the whisper hangs up the dialled end, unbridged; busy and unanswered end at once.
    const declined = await FakeTwilioCall.dial({ serverUrl: server.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, dialTargets: () => ({ answer: 'pick-up' }) });
    await declined.ended;
    expect(declined.actionRequests[0]!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'false' });
    for (const [target, status] of [[{ answer: 'busy' }, 'busy'], [{ answer: 'no-answer', ringMs: 30 }, 'no-answer']] as const) {
      const call = await FakeTwilioCall.dial({ serverUrl: server.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, dialTargets: () => target });
      await call.ended;
      expect(call.actionRequests[0]!.params).toMatchObject({ DialCallStatus: status, DialBridged: 'false' });
      expect(call.actionRequests[0]!.params.DialCallSid).toBeUndefined();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
