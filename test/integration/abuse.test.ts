/**
 * What one hostile or broken client can cost the service (docs/security.md), through the real server: a media
 * stream that claims more audio than time allows, connections that send their request too slowly, bodies no parser
 * takes. Each gets a bounded answer while `/healthz` keeps answering.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BURST_ALLOWANCE_MS, MAX_VIOLATIONS } from '../../src/call/caller-audio-policer.js';
import type { FakeSession } from '../fakes/gemini-live/server.js';
import { computeTwilioSignature, FakeTwilioMediaStream, TEST_AUTH_TOKEN } from '../fakes/twilio/index.js';
import { sleep, startBridge, type Bridge } from '../support/bridge-harness.js';
import { openBrowserPhoneCall } from '../support/browser-phone-call.js';

const BROWSER_PHONE_KEY = 'abuse-test-browser-phone-key-000000';
const SILENT_PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');
const MIB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** `/healthz` probed every 20 ms from 127.0.0.1 until stopped; the slowest answer, ms. */
function probeHealth(url: string): { stop: () => Promise<{ maxMs: number; failures: number; probes: number }> } {
  let running = true;
  const figures = { maxMs: 0, failures: 0, probes: 0 };
  const loop = (async () => {
    while (running) {
      const startedAt = performance.now();
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
      await response?.arrayBuffer();
      if (response?.status !== 200) figures.failures++;
      figures.probes++;
      figures.maxMs = Math.max(figures.maxMs, performance.now() - startedAt);
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return figures;
    },
  };
}

/** Memory of this process (the service, its fakes, the test): the largest sample, and after the calls ended. */
function watchMemory(): { stop: () => { peakRssGrowthMiB: number; heapGrowthAfterMiB: number } } {
  gc();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
  return {
    stop: () => {
      clearInterval(timer);
      gc();
      return { peakRssGrowthMiB: (peakRss - baseline.rss) / MIB, heapGrowthAfterMiB: (process.memoryUsage().heapUsed - baseline.heapUsed) / MIB };
    },
  };
}

describe('one media stream claiming more audio than time allows', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  async function startCall(kind: 'twilio' | 'browser'): Promise<{ stream: FakeTwilioMediaStream; session: FakeSession; callSid: string; connectedAt: number }> {
    bridge = await startBridge({ env: { BROWSER_PHONE: '1', BROWSER_PHONE_KEY }, gemini: { replies: () => ({ text: 'Hello.' }) } });
    const connectedAt = performance.now(); // no later than the stream's start: the clock its audio is held to
    let stream: FakeTwilioMediaStream;
    if (kind === 'twilio') {
      stream = (await bridge.placeCall({ continuousSilence: false })).twilio;
    } else {
      stream = (await openBrowserPhoneCall(bridge.app.localUrl, BROWSER_PHONE_KEY, { continuousSilence: false })).stream;
    }
    const session = await bridge.gemini.waitForSession(0);
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000); // a call in progress
    return { stream, session, callSid: stream.callSid, connectedAt };
  }

  /**
   * Sends `timestamps.length` frames at once, each stamped with the next timestamp; returns when the call has ended,
   * with the model audio it caused and the time since the stream started.
   */
  async function abuse(kind: 'twilio' | 'browser', timestamps: number[]) {
    const { stream, session, callSid, connectedAt } = await startCall(kind);
    const b = bridge!;
    const health = probeHealth(b.app.localUrl);
    const memory = watchMemory();
    const audioBefore = session.receivedAudio16k.seconds;
    // As fast as the socket takes them; a hundred at a time, so this process's own sending (the fake shares the
    // service's event loop) does not stand in the way of /healthz.
    for (const [i, timestamp] of timestamps.entries()) {
      stream.sendRaw(JSON.stringify({ event: 'media', sequenceNumber: String(i + 3), media: { track: 'inbound', chunk: String(i + 1), timestamp: String(timestamp), payload: SILENT_PAYLOAD }, streamSid: stream.streamSid }));
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    const closed = await stream.closed;
    const summary = await b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    await session.closed;
    const elapsedMs = performance.now() - connectedAt;
    const modelAudioMs = (session.receivedAudio16k.seconds - audioBefore) * 1000;
    await sleep(200); // /healthz keeps being probed after the hang-up too
    return { closed, summary, elapsedMs, modelAudioMs, health: await health.stop(), memory: memory.stop(), logs: b.logs.filter((line) => line.callSid === callSid) };
  }

  const tenSecondSteps = Array.from({ length: 2_000 }, (_, i) => i * 10_000);

  it.each(['twilio', 'browser'] as const)('timestamps stepping 10 s (%s stream): the model gets no more than the clock allows, the stream is hung up', async (kind) => {
    const result = await abuse(kind, tenSecondSteps);
    // Before: 20,000 s of silence reached the model, the event loop stalled for seconds, RSS grew by 2 GB.
    expect(result.modelAudioMs).toBeLessThanOrEqual(result.elapsedMs + BURST_ALLOWANCE_MS);
    expect(result.closed).toMatchObject({ code: 1008, initiatedBy: 'server' });
    expect(result.summary).toMatchObject({ endReason: 'caller-audio-over-real-time' });
    expect(result.summary.callerGapRefusedSeconds).toBeGreaterThan(MAX_VIOLATIONS * 9);
    expect(result.logs.filter((line) => line.msg === 'hanging up a media stream that sends more audio than real time allows')).toHaveLength(1);
    expect(result.health).toMatchObject({ failures: 0 });
    expect(result.health.maxMs).toBeLessThan(500);
    expect(result.memory.peakRssGrowthMiB).toBeLessThan(100);
    expect(result.memory.heapGrowthAfterMiB).toBeLessThan(20);
  });

  it('120 s of audio in a burst: a few seconds reach the model, the rest is dropped and counted, the stream is hung up', async () => {
    const result = await abuse('twilio', Array.from({ length: 6_000 }, (_, i) => i * 20));
    // Before: all 120 s reached the model within a second.
    expect(result.modelAudioMs).toBeLessThanOrEqual(result.elapsedMs + BURST_ALLOWANCE_MS);
    expect(result.closed).toMatchObject({ code: 1008, initiatedBy: 'server' });
    expect(result.summary).toMatchObject({ endReason: 'caller-audio-over-real-time', callerGapFilledSeconds: 0 });
    expect(result.summary.callerAudioDroppedSeconds).toBeGreaterThanOrEqual((MAX_VIOLATIONS * 20) / 1000);
    expect(result.health.maxMs).toBeLessThan(500);
    expect(result.memory.peakRssGrowthMiB).toBeLessThan(100);
    expect(result.memory.heapGrowthAfterMiB).toBeLessThan(20);
  });
});

describe('connections that send their request too slowly, or too many from one address', () => {
  let bridge: Bridge | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await bridge?.stop();
    bridge = undefined;
  });

  interface SlowClient {
    socket: Socket;
    openedAt: number;
    closedAt?: number;
    answer: string;
  }

  /** A client on 127.0.0.2 that sends `start` and then a header line every 100 ms, never finishing. */
  function slowClient(port: number, start: string): SlowClient {
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    sockets.push(socket);
    const client: SlowClient = { socket, openedAt: performance.now(), answer: '' };
    socket.on('data', (chunk: Buffer) => (client.answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => (client.closedAt = performance.now()));
    socket.write(start);
    const trickle = setInterval(() => (socket.destroyed ? clearInterval(trickle) : socket.write(start.startsWith('POST') ? 'x' : 'X-Slow: 1\r\n')), 100);
    return client;
  }

  it('closes slow headers and slow bodies at their timeouts, refuses connections past the cap per address, and /healthz answers throughout', async () => {
    bridge = await startBridge({ env: { HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000', MAX_CONNECTIONS_PER_SOURCE: '10' } });
    const port = Number(new URL(bridge.app.localUrl).port);
    const health = probeHealth(bridge.app.localUrl);
    const headers = Array.from({ length: 8 }, () => slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: agent\r\n'));
    const bodies = Array.from({ length: 2 }, () => slowClient(port, 'POST /voice HTTP/1.1\r\nHost: agent\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n'));
    await sleep(100);
    const overCap = Array.from({ length: 20 }, () => slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: agent\r\n'));
    await expect.poll(() => [...headers, ...bodies, ...overCap].every((client) => client.closedAt !== undefined), { timeout: 5_000 }).toBe(true);
    const heldMs = (client: SlowClient) => client.closedAt! - client.openedAt;

    // Past the cap: closed at once, nothing said.
    for (const client of overCap) expect(client.answer).toBe('');
    expect(Math.max(...overCap.map(heldMs))).toBeLessThan(500);
    // Within it: a 408 at the timeout (Node's default held them 60 s, then up to 30 s more before checking).
    for (const client of headers) {
      expect(client.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(heldMs(client)).toBeGreaterThanOrEqual(500);
      expect(heldMs(client)).toBeLessThan(2_000);
    }
    for (const client of bodies) {
      expect(client.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(heldMs(client)).toBeGreaterThanOrEqual(1_000);
      expect(heldMs(client)).toBeLessThan(2_500);
    }
    const figures = await health.stop();
    expect(figures.failures).toBe(0);
    expect(figures.maxMs).toBeLessThan(500);
    // Logged once for the address, however many times it was refused.
    const refusals = bridge.logs.filter((line) => /^connection (refused|closed)/.test(line.msg));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.source).toMatch(/127\.0\.0\.2/);
  });

  it('counts WebSocket media streams against the same budget', async () => {
    bridge = await startBridge({ env: { MAX_CONNECTIONS_PER_SOURCE: '3' } });
    const url = `${bridge.app.localUrl.replace('http://', 'ws://')}/media`;
    const signature = computeTwilioSignature(TEST_AUTH_TOKEN, 'wss://agent.example.test/media', {});
    const open = (): Promise<{ ws: WebSocket; outcome: string }> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, { headers: { 'x-twilio-signature': signature }, localAddress: '127.0.0.2' });
        ws.on('open', () => resolve({ ws, outcome: 'open' }));
        ws.on('error', () => resolve({ ws, outcome: 'refused' }));
      });
    const streams = [await open(), await open(), await open()];
    expect(streams.map((s) => s.outcome)).toEqual(['open', 'open', 'open']);
    const fourth = await open();
    expect(fourth.outcome).toBe('refused');
    const healthz = await fetch(`${bridge.app.localUrl}/healthz`); // another address is not affected
    expect(healthz.status).toBe(200);
    streams[0]!.ws.terminate();
    await sleep(100);
    const again = await open();
    expect(again.outcome).toBe('open');
    for (const s of [...streams, fourth, again]) s.ws.terminate();
  });
});

describe('bodies no parser takes, on every Twilio route', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  /** Never in any answer or log line: it is only ever in a request body. */
  const MARKER = 'body-marker-4f1c';
  const form = 'application/x-www-form-urlencoded';
  const malformed: Array<[string, { contentType: string; body: string }, number]> = [
    // Before: outside production, a stack trace with file paths; the error unthrottled on stderr.
    ['charset=utf-7', { contentType: `${form}; charset=utf-7`, body: `CallSid=${MARKER}` }, 415],
    // Before: the error logged with the raw body.
    ['too many parameters', { contentType: form, body: Array.from({ length: 1_001 }, (_, i) => `${MARKER}${i}=1`).join('&') }, 413],
    ['too large', { contentType: form, body: `CallSid=${MARKER}${'x'.repeat(40_000)}` }, 413],
    ['a gzip body that is not gzip', { contentType: form, body: MARKER }, 400],
  ];

  it.each(malformed)('%s: the project\'s error (TwiML or JSON), no stack, logged once per source without the body', async (_label, request, status) => {
    bridge = await startBridge({ env: { OUTBOUND_API_KEY: 'outbound-test-key-0123456789abcdef', TWILIO_PHONE_NUMBER: '+14155550100' } });
    const routes: Array<[string, 'twiml' | 'json']> = [
      ['/voice', 'twiml'],
      ['/voice/stream-ended', 'twiml'],
      ['/call-status', 'json'],
    ];
    for (const [path, kind] of routes) {
      for (let i = 0; i < 20; i++) {
        const gzip = request.body === MARKER;
        const response = await fetch(`${bridge.app.localUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': request.contentType, 'x-twilio-signature': 'c2lnbmF0dXJl', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
          body: request.body,
        });
        const text = await response.text();
        expect(response.status).toBe(status);
        if (kind === 'twiml') {
          expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
          expect(text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
        } else {
          expect(JSON.parse(text)).toEqual({ error: expect.any(String) });
        }
        expect(text).not.toMatch(/ at |\/src\/|node_modules|Error:/);
        expect(text).not.toContain(MARKER);
      }
    }
    // POST /calls: JSON that is not JSON.
    const calls = await fetch(`${bridge.app.localUrl}/calls`, {
      method: 'POST',
      headers: { authorization: 'Bearer outbound-test-key-0123456789abcdef', 'content-type': 'application/json' },
      body: `{"to": "${MARKER}`,
    });
    expect(calls.status).toBe(400);
    expect(await calls.json()).toEqual({ error: 'The body is not valid JSON.' });

    const refusals = bridge.logs.filter((line) => line.msg.startsWith('request refused'));
    expect(refusals).toHaveLength(1); // 61 refusals from one address: one line (the rest counted, reported a minute on)
    expect(refusals[0]).toMatchObject({ level: 40, status, source: expect.stringMatching(/127\.0\.0\.1/) });
    expect(bridge.logText()).not.toContain(MARKER);
    expect(bridge.logs.filter((line) => line.level >= 50)).toEqual([]);
  });
});
