import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { GeminiLiveSession, type SessionEvent } from '../../src/model/gemini/live-session.js';
import { createLogger } from '../../src/observability/logger.js';

/**
 * The SDK's sharp edges, driven through the real @google/genai client against a raw WebSocket server
 * that misbehaves in ways the public protocol never promises against.
 */
describe('GeminiLiveSession guards', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function rawServer(onSetup: (send: (data: string | Buffer) => void) => void): Promise<string> {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (ws) => {
      ws.once('message', () => onSetup((data) => ws.send(data)));
    });
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function open(baseUrl: string, events: SessionEvent[]) {
    process.env.GOOGLE_GEMINI_BASE_URL = baseUrl;
    const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
    return GeminiLiveSession.open({
      auth: { kind: 'api-key', apiKey: 'key' },
      model: 'gemini-3.8-live',
      apiVersion: undefined,
      voice: 'Kore',
      instructions: 'test',
      tools: [],
      setupTimeoutMs: 2_000,
      log,
      onEvent: (event) => events.push(event),
    });
  }

  it('closes the session on a frame that is not JSON instead of crashing the process', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const baseUrl = await rawServer((send) => {
        send(Buffer.from(JSON.stringify({ setupComplete: {} })));
        setTimeout(() => send(Buffer.from('this is not json')), 50);
      });
      const events: SessionEvent[] = [];
      const session = await open(baseUrl, events);
      await expect.poll(() => events.some((event) => event.type === 'closed'), { timeout: 3_000 }).toBe(true);
      expect(session.isOpen).toBe(false);
      expect(session.sendAudio(new Uint8Array(640))).toBe(false); // no send on a closed session
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('reports one closed event, marked as ours, after close()', async () => {
    const baseUrl = await rawServer((send) => send(Buffer.from(JSON.stringify({ setupComplete: {} }))));
    const events: SessionEvent[] = [];
    const session = await open(baseUrl, events);
    expect(session.sendText('hello')).toBe(true);
    session.close();
    session.close();
    await expect.poll(() => events.filter((event) => event.type === 'closed').length, { timeout: 3_000 }).toBe(1);
    expect(events.find((event) => event.type === 'closed')).toMatchObject({ byUs: true });
    expect(session.sendText('too late')).toBe(false);
  });

  it('does not let an exception in the call escape a message callback', async () => {
    const baseUrl = await rawServer((send) => {
      send(Buffer.from(JSON.stringify({ setupComplete: {} })));
      send(Buffer.from(JSON.stringify({ serverContent: { turnComplete: true } })));
    });
    process.env.GOOGLE_GEMINI_BASE_URL = baseUrl;
    const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
    let calls = 0;
    const session = await GeminiLiveSession.open({
      auth: { kind: 'api-key', apiKey: 'key' }, model: 'm', apiVersion: undefined, voice: 'Kore', instructions: '', tools: [], setupTimeoutMs: 2_000, log,
      onEvent: () => {
        calls++;
        throw new Error('bug in a call handler');
      },
    });
    await expect.poll(() => calls, { timeout: 2_000 }).toBeGreaterThan(0);
    session.close();
  });
});
