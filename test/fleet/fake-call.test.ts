/**
 * The fake Twilio call (test/fakes/twilio/call.ts) against a tiny stand-in server: the `<Connect action>` request
 * when a stream is lost, none when the caller or the REST API ends the call, the TwiML that follows.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeTwilioCall } from '../fakes/twilio/call.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../fakes/twilio/ids.js';
import { startFakeTwilioRestApi, type FakeTwilioRestApi } from '../fakes/twilio/rest-api.js';
import { isValidTwilioSignature } from '../fakes/twilio/signature.js';

const PUBLIC_URL = 'https://standin.example.test';

interface Received {
  path: string;
  params: Record<string, string>;
  signed: boolean;
}

/** Answers /voice and /ended with whatever the test queued; every media socket is kept for the test to close. */
class StandIn {
  readonly requests: Received[] = [];
  readonly sockets: { path: string; socket: WebSocket; start: Promise<Record<string, unknown>> }[] = [];
  voiceTwiml = '';
  /** Answers to action requests, in order; the last one repeats. */
  actionTwimls: string[] = [];
  private server!: Server;
  private wss!: WebSocketServer;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const params = Object.fromEntries(new URLSearchParams(body));
        const path = req.url ?? '';
        this.requests.push({ path, params, signed: isValidTwilioSignature(TEST_AUTH_TOKEN, req.headers['x-twilio-signature'] as string | undefined, `${PUBLIC_URL}${path}`, params) });
        const twiml = path === '/voice' ? this.voiceTwiml : (this.actionTwimls.length > 1 ? this.actionTwimls.shift() : this.actionTwimls[0]) ?? '<Response><Hangup/></Response>';
        res.writeHead(200, { 'content-type': 'text/xml' }).end(twiml);
      });
    });
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (socket, req) => {
      const start = new Promise<Record<string, unknown>>((resolve) => {
        socket.on('message', (data) => {
          const message = JSON.parse(data.toString()) as Record<string, unknown>;
          if (message['event'] === 'start') resolve(message);
        });
      });
      this.sockets.push({ path: req.url ?? '', socket, start });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
  });
}

const connectTwiml = (path: string, token: string, action = true): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><Connect${action ? ` action="${PUBLIC_URL}/ended" method="POST"` : ''}><Stream url="wss://standin.example.test${path}"><Parameter name="streamToken" value="${token}"/></Stream></Connect>${action ? '' : '<Say>After the stream.</Say>'}</Response>`;

let standIn: StandIn;
let rest: FakeTwilioRestApi;
const calls: FakeTwilioCall[] = [];

beforeAll(async () => {
  standIn = new StandIn();
  await standIn.start();
  rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
});
afterAll(async () => {
  await standIn.stop();
  await rest.close();
});
afterEach(async () => {
  for (const call of calls.splice(0)) await call.hangUp();
  standIn.requests.length = 0;
  standIn.sockets.length = 0;
});

async function dial(options: { rest?: boolean } = {}): Promise<FakeTwilioCall> {
  const call = await FakeTwilioCall.dial({
    serverUrl: `http://127.0.0.1:${standIn.port}`,
    publicUrl: PUBLIC_URL,
    authToken: TEST_AUTH_TOKEN,
    ...(options.rest === true ? { restApi: rest } : {}),
  });
  calls.push(call);
  return call;
}

describe('FakeTwilioCall', () => {
  it('requests the signed <Connect action> when its stream is lost, and follows the new stream it gets', async () => {
    standIn.voiceTwiml = connectTwiml('/media/a', 'first');
    standIn.actionTwimls = [connectTwiml('/media/b', 'second'), '<Response><Hangup/></Response>'];
    const call = await dial();
    expect(call.streamCount).toBe(1);
    expect(standIn.sockets[0]?.path).toBe('/media/a');
    expect(((await standIn.sockets[0]!.start)['start'] as { customParameters: unknown }).customParameters).toEqual({ streamToken: 'first' });

    standIn.sockets[0]!.socket.terminate(); // the instance died: no stop, the socket just goes
    const second = await call.waitForStream(2);
    expect(call.stream).toBe(second);
    expect(standIn.sockets[1]?.path).toBe('/media/b');
    expect(((await standIn.sockets[1]!.start)['start'] as { customParameters: unknown }).customParameters).toEqual({ streamToken: 'second' });
    expect(call.actionRequests).toHaveLength(1);
    const action = standIn.requests.find((r) => r.path === '/ended');
    expect(action?.signed).toBe(true);
    expect(action?.params).toMatchObject({ CallSid: call.callSid, AccountSid: TEST_ACCOUNT_SID, CallStatus: 'in-progress' });
    expect(call.streams.map((s) => s.source)).toEqual(['voice', 'action']);
    expect(call.streams[1]!.originAtMs).toBeGreaterThan(call.streams[0]!.originAtMs);

    // The server closes the second stream too (the call ended on purpose): the action now answers <Hangup/>.
    standIn.sockets[1]!.socket.close();
    expect((await call.ended).reason).toBe('hangup-verb');
    expect(call.actionRequests).toHaveLength(2);
    expect(call.errors).toEqual([]);
  });

  it('makes no action request when the caller hangs up, and sends stop first', async () => {
    standIn.voiceTwiml = connectTwiml('/media/a', 'token');
    const call = await dial();
    const stopped = new Promise<boolean>((resolve) => {
      standIn.sockets[0]!.socket.on('message', (data) => {
        if ((JSON.parse(data.toString()) as { event: string }).event === 'stop') resolve(true);
      });
    });
    expect((await call.hangUp()).reason).toBe('caller-hung-up');
    expect(await stopped).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(call.actionRequests).toEqual([]);
    expect(standIn.requests.map((r) => r.path)).toEqual(['/voice']);
  });

  it('makes no action request when the call is hung up through the REST API', async () => {
    standIn.voiceTwiml = connectTwiml('/media/a', 'token');
    const call = await dial({ rest: true });
    expect(rest.getCall(call.callSid)?.status).toBe('in-progress');
    const response = await fetch(`${rest.baseUrl}/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls/${call.callSid}.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Status=completed',
    });
    expect(response.status).toBe(200);
    expect((await call.ended).reason).toBe('rest-completed');
    expect(call.stream?.stopSent).toBe(true);
    expect(call.actionRequests).toEqual([]);
  });

  it('says a refusal and hangs up, with no stream', async () => {
    standIn.voiceTwiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, all of our lines are busy.</Say><Hangup/></Response>';
    const call = await dial();
    expect((await call.ended).reason).toBe('hangup-verb');
    expect(call.said).toEqual(['Sorry, all of our lines are busy.']);
    expect(call.streamCount).toBe(0);
  });

  it('without an action, goes on with the verbs after </Connect> once the stream ends', async () => {
    standIn.voiceTwiml = connectTwiml('/media/a', 'token', false);
    const call = await dial();
    standIn.sockets[0]!.socket.close();
    expect((await call.ended).reason).toBe('twiml-ended');
    expect(call.said).toEqual(['After the stream.']);
    expect(call.actionRequests).toEqual([]);
  });
});
