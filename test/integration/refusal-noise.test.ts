import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MediaStreamServer } from '../../src/telephony/media-stream-server.js';
import { StreamTokenStore } from '../../src/telephony/stream-tokens.js';
import { FakeTwilioMediaStream, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, computeTwilioSignature, defaultVoiceWebhookParams, postVoiceWebhook } from '../fakes/twilio/index.js';
import { capturingLogger } from '../support/log-capture.js';
import { PUBLIC_URL, startBridge, type Bridge } from '../support/bridge-harness.js';

/** Unauthenticated noise must not flood the log, nor hold the server's sockets. */
describe('refused requests through the running server', () => {
  let bridge: Bridge;
  beforeAll(async () => {
    bridge = await startBridge();
  });
  afterAll(async () => bridge.stop());

  it('logs a burst of refused webhooks and streams from one source once, with the source', async () => {
    const before = bridge.logs.length;
    for (let i = 0; i < 30; i++) {
      const response = await postVoiceWebhook({ serverUrl: bridge.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID }), signature: 'bm90IGEgc2lnbmF0dXJl' });
      expect(response.status).toBe(403); // every one is still refused
    }
    for (let i = 0; i < 10; i++) {
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${bridge.app.localUrl.replace('http', 'ws')}/media`);
        ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
      expect(refused).toBe(403);
    }
    const refusals = bridge.logs.slice(before).filter((line) => /refused/.test(line.msg));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 40, msg: expect.stringContaining('voice webhook refused'), source: expect.stringMatching(/127\.0\.0\.1/) });
  });
});

describe('sockets waiting for their start', () => {
  let server: Server;
  let media: MediaStreamServer;
  const sockets: WebSocket[] = [];
  const { log, lines } = capturingLogger();

  beforeAll(async () => {
    media = new MediaStreamServer({
      config: { publicUrl: new URL(PUBLIC_URL), twilio: { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: undefined, phoneNumber: undefined }, telephony: { enabled: true } },
      redeem: async () => undefined,
      log,
      isCallActive: () => false,
      onStream: () => undefined,
      maxPendingStreams: 2,
    });
    server = createServer();
    server.on('upgrade', (request, socket, head) => media.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
  });
  afterAll(async () => {
    media.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A correctly signed upgrade that then sends nothing, as a replayed signature would. */
  function connect(): Promise<{ ws: WebSocket; status: number }> {
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/media`;
    const ws = new WebSocket(url, { headers: { 'x-twilio-signature': computeTwilioSignature(TEST_AUTH_TOKEN, 'wss://agent.example.test/media', {}) } });
    sockets.push(ws);
    return new Promise((resolve) => {
      ws.on('open', () => resolve({ ws, status: 101 }));
      ws.on('unexpected-response', (_request, response) => resolve({ ws, status: response.statusCode ?? 0 }));
      ws.on('error', () => undefined);
    });
  }

  it('are capped: past the cap an upgrade gets 503, and a place frees when one of them closes', async () => {
    const first = await connect();
    const second = await connect();
    expect([first.status, second.status]).toEqual([101, 101]);
    expect(media.pendingStreams).toBe(2);
    expect((await connect()).status).toBe(503);
    expect(lines.some((line) => line.msg === 'media stream refused: too many streams waiting for their start')).toBe(true);

    first.ws.close();
    await expect.poll(() => media.pendingStreams).toBe(1);
    expect((await connect()).status).toBe(101);
    expect(media.pendingStreams).toBe(2);
  });
});

describe('a stream whose token is being redeemed', () => {
  let server: Server;
  let media: MediaStreamServer;
  const { log, lines } = capturingLogger();

  beforeAll(async () => {
    media = new MediaStreamServer({
      config: { publicUrl: new URL(PUBLIC_URL), twilio: { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, apiBaseUrl: undefined, phoneNumber: undefined }, telephony: { enabled: true } },
      redeem: () => new Promise(() => undefined), // the shared state is slow to answer
      log,
      isCallActive: () => false,
      onStream: () => undefined,
    });
    server = createServer();
    server.on('upgrade', (request, socket, head) => media.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    media.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('keeps what arrives meanwhile for the call, but not without bound: past 256 KiB the stream is refused', async () => {
    const stream = await FakeTwilioMediaStream.connect({
      serverUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
      streamUrl: 'wss://agent.example.test/media',
      authToken: TEST_AUTH_TOKEN,
      accountSid: TEST_ACCOUNT_SID,
      callSid: `CA${'1'.repeat(32)}`,
      continuousSilence: false,
    });
    const payload = Buffer.alloc(45_000, 0xff).toString('base64'); // each message just under the 64 KiB cap
    for (let i = 0; i < 6; i++) stream.sendRaw(JSON.stringify({ event: 'media', streamSid: stream.streamSid, sequenceNumber: String(i + 3), media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload } }));
    expect(await stream.closed).toMatchObject({ code: 1008, reason: 'too much sent before its token was checked' });
    expect(lines.some((line) => line.reason === 'too much sent before its token was checked')).toBe(true);
  });
});
