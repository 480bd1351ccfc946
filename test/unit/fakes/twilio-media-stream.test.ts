/**
 * FakeTwilioMediaStream against a tiny in-test WebSocket server playing the role of our app. Real time is used on
 * purpose (the fake's value is its real-time playout clock), so timing assertions carry tolerances for a loaded
 * two-core machine.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FakeTwilioMediaStream,
  TwilioHandshakeError,
  loadSpeechFixture,
  newCallSid,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  type FakeTwilioMediaStreamOptions,
} from '../../fakes/twilio/index.js';

const STREAM_URL = 'wss://agent.example.com/media';

interface Received {
  atMs: number;
  raw: string;
  /** Parsed JSON; empty when the frame was not a JSON object (negative tests). */
  msg: Record<string, unknown>;
}

/** The "app" side of one connection: records what Twilio sent and lets the test send back. */
class AppConnection {
  readonly messages: Received[] = [];
  private readonly t0 = performance.now();
  private listeners: (() => void)[] = [];
  constructor(
    readonly ws: WebSocket,
    readonly upgrade: IncomingMessage,
  ) {
    ws.on('message', (data: Buffer) => {
      const raw = data.toString('utf8');
      this.messages.push({ atMs: this.now(), raw, msg: parseObject(raw) });
      for (const l of [...this.listeners]) l();
    });
  }
  now(): number {
    return performance.now() - this.t0;
  }
  events(event: string): Received[] {
    return this.messages.filter((m) => m.msg['event'] === event);
  }
  get streamSid(): string {
    return (this.events('start')[0]?.msg['streamSid'] as string | undefined) ?? '';
  }
  send(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }
  sendMedia(bytes: Uint8Array): void {
    this.send({ event: 'media', streamSid: this.streamSid, media: { payload: Buffer.from(bytes).toString('base64') } });
  }
  sendMark(name: string): void {
    this.send({ event: 'mark', streamSid: this.streamSid, mark: { name } });
  }
  /** Resolves when `predicate` holds over the received messages. */
  until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      const timer = setTimeout(() => reject(new Error('AppConnection.until timed out')), timeoutMs);
      this.listeners.push(check);
      check();
    });
  }
}

function parseObject(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

let servers: Server[] = [];
let fakes: FakeTwilioMediaStream[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});

/** Starts the app stand-in; it refuses upgrades whose signature is not valid for STREAM_URL (403). */
async function startApp(): Promise<{ url: string; nextConnection: () => Promise<AppConnection> }> {
  const wss = new WebSocketServer({ noServer: true });
  const pending: ((c: AppConnection) => void)[] = [];
  const ready: AppConnection[] = [];
  const server = createServer((_req, res) => res.writeHead(404).end());
  servers.push(server);
  server.on('upgrade', (req, socket, head) => {
    const signature = req.headers['x-twilio-signature'];
    if (typeof signature !== 'string' || !twilio.validateRequest(TEST_AUTH_TOKEN, signature, STREAM_URL, {})) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new AppConnection(ws, req);
      const waiter = pending.shift();
      if (waiter) waiter(conn);
      else ready.push(conn);
    });
  });
  server.on('close', () => wss.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/media`;
  return {
    url,
    nextConnection: () => {
      const conn = ready.shift();
      return conn ? Promise.resolve(conn) : new Promise((resolve) => pending.push(resolve));
    },
  };
}

async function connectPair(
  overrides: Partial<FakeTwilioMediaStreamOptions> = {},
): Promise<{ fake: FakeTwilioMediaStream; app: AppConnection }> {
  const app = await startApp();
  const fake = await FakeTwilioMediaStream.connect({
    serverUrl: app.url,
    streamUrl: STREAM_URL,
    authToken: TEST_AUTH_TOKEN,
    callSid: newCallSid(),
    customParameters: { token: 'per-call-secret' },
    continuousSilence: false,
    ...overrides,
  });
  fakes.push(fake);
  const conn = await app.nextConnection();
  if (overrides.start === undefined) await conn.until(() => conn.events('start').length === 1);
  return { fake, app: conn };
}

const tone = (ms: number, byte: number): Uint8Array => new Uint8Array(ms * 8).fill(byte);

describe('FakeTwilioMediaStream: handshake and start', () => {
  it('signs the upgrade over the wss:// stream URL and sends connected then start', async () => {
    const { fake, app } = await connectPair();
    const signature = app.upgrade.headers['x-twilio-signature'];
    expect(twilio.validateRequest(TEST_AUTH_TOKEN, String(signature), STREAM_URL, {})).toBe(true);
    expect(app.upgrade.headers['user-agent']).toBe('Twilio.TmeWs/1.0');

    expect(app.messages.map((m) => m.msg['event'])).toEqual(['connected', 'start']);
    expect(app.messages[0]!.msg).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(app.messages[1]!.msg).toEqual({
      event: 'start',
      sequenceNumber: '1',
      start: {
        accountSid: TEST_ACCOUNT_SID,
        streamSid: fake.streamSid,
        callSid: fake.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: { token: 'per-call-secret' },
      },
      streamSid: fake.streamSid,
    });
    expect(fake.streamSid).toMatch(/^MZ[0-9a-f]{32}$/);
  });

  it('rejects with the HTTP status when the server refuses a bad or missing signature', async () => {
    const app = await startApp();
    const base = { serverUrl: app.url, streamUrl: STREAM_URL, authToken: TEST_AUTH_TOKEN, callSid: newCallSid() };
    await expect(FakeTwilioMediaStream.connect({ ...base, signature: 'forged=' })).rejects.toMatchObject({ statusCode: 403 });
    await expect(FakeTwilioMediaStream.connect({ ...base, signature: null })).rejects.toBeInstanceOf(TwilioHandshakeError);
    // Signed over the local ws:// URL instead of the public wss:// one: also refused.
    await expect(FakeTwilioMediaStream.connect({ ...base, streamUrl: app.url })).rejects.toMatchObject({ statusCode: 403 });
  });

  it('can skip or garble start for negative tests', async () => {
    const skipped = await connectPair({ start: 'skip' });
    await skipped.app.until(() => skipped.app.messages.length === 1);
    expect(skipped.app.messages.map((m) => m.msg['event'])).toEqual(['connected']);

    const garbled = await connectPair({ start: 'garbled' });
    await garbled.app.until(() => garbled.app.messages.length === 2);
    expect(garbled.app.messages[0]!.msg['event']).toBe('connected');
    expect(() => JSON.parse(garbled.app.messages[1]!.raw)).toThrow();
    expect(garbled.app.messages[1]!.raw.startsWith('{"event":"start"')).toBe(true);
  });
});

describe('FakeTwilioMediaStream: agent playout, marks and clear', () => {
  it('echoes a mark when the audio before it has played (~400 ms)', async () => {
    const { fake, app } = await connectPair();
    const audio = tone(400, 0x2a);
    const sentAt = app.now();
    // Several messages of different sizes: "any size" is allowed and they play back to back.
    app.sendMedia(audio.subarray(0, 1000));
    app.sendMedia(audio.subarray(1000, 1160));
    app.sendMedia(audio.subarray(1160));
    app.sendMark('end-of-turn');
    await app.until(() => app.events('mark').length === 1);
    const echoDelay = app.events('mark')[0]!.atMs - sentAt;
    expect(echoDelay).toBeGreaterThanOrEqual(395);
    expect(echoDelay).toBeLessThan(480);

    const echo = app.events('mark')[0]!.msg;
    expect(echo).toEqual({ event: 'mark', sequenceNumber: '2', streamSid: fake.streamSid, mark: { name: 'end-of-turn' } });
    const record = fake.marksEchoed[0]!;
    expect(record.outcome).toBe('played');
    expect(record.echoedAtMs - fake.firstAgentAudioAtMs!).toBeGreaterThanOrEqual(399);
    expect(record.echoedAtMs - fake.firstAgentAudioAtMs!).toBeLessThan(450);
    expect(Buffer.from(fake.heardAudio).equals(Buffer.from(audio))).toBe(true);
    expect(fake.heardTimeline[0]!.atMs).toBeCloseTo(fake.firstAgentAudioAtMs!, 5);
    expect(fake.violations).toEqual([]);
    expect(fake.errors).toEqual([]);
  });

  it('echoes a mark at once when nothing is buffered', async () => {
    const { fake, app } = await connectPair();
    const sentAt = app.now();
    app.sendMark('nothing-playing');
    await app.until(() => app.events('mark').length === 1);
    expect(app.events('mark')[0]!.atMs - sentAt).toBeLessThan(40);
    expect(fake.marksEchoed).toMatchObject([{ name: 'nothing-playing', outcome: 'played' }]);
  });

  it('clear echoes all pending marks at once; cleared audio is never heard', async () => {
    const { fake, app } = await connectPair();
    const first = tone(1000, 0x11);
    const second = tone(1000, 0x22);
    app.sendMedia(first);
    app.sendMark('a');
    app.sendMedia(second);
    app.sendMark('b');
    await fake.waitForAgentAudio({ minBytes: 16000 });
    await new Promise((r) => setTimeout(r, 300));
    const clearSentAt = app.now();
    app.send({ event: 'clear', streamSid: app.streamSid });
    await app.until(() => app.events('mark').length === 2);
    for (const echo of app.events('mark')) expect(echo.atMs - clearSentAt).toBeLessThan(40);
    expect(app.events('mark').map((m) => (m.msg['mark'] as { name: string }).name)).toEqual(['a', 'b']);

    const clear = await fake.waitForClear();
    expect(clear.pendingMarks).toEqual(['a', 'b']);
    expect(fake.marksEchoed.map((m) => m.outcome)).toEqual(['cleared', 'cleared']);
    const heard = fake.heardAudio;
    // ~300 ms played before the clear (8 bytes/ms), all of it from the start of the first message.
    expect(heard.length).toBeGreaterThan(250 * 8);
    expect(heard.length).toBeLessThan(420 * 8);
    expect(heard.every((b) => b === 0x11)).toBe(true);
    expect(clear.discardedBytes).toBe(first.length + second.length - heard.length);
    expect(fake.receivedAudio.length).toBe(16000);

    // Playback resumes for audio sent after the clear.
    app.sendMedia(tone(100, 0x33));
    app.sendMark('c');
    const echo = await fake.waitForMarkEcho('c', 2000);
    expect(echo.outcome).toBe('played');
    expect(echo.echoedAtMs - echo.receivedAtMs).toBeGreaterThanOrEqual(99);
    expect(fake.heardAudio.length).toBe(heard.length + 800);
  });

  it('on hang-up, audio played so far counts as heard and pending marks are never echoed', async () => {
    const { fake, app } = await connectPair();
    app.sendMedia(tone(1000, 0x44));
    app.sendMark('never');
    await fake.waitForAgentAudio();
    await new Promise((r) => setTimeout(r, 200));
    await fake.hangUp();
    expect(fake.heardAudio.length).toBeGreaterThan(150 * 8);
    expect(fake.heardAudio.length).toBeLessThan(320 * 8);
    expect(fake.marksEchoed).toEqual([]);
    expect(app.events('mark')).toEqual([]);
  });

  it('records protocol violations and ignores the offending messages', async () => {
    const { fake, app } = await connectPair();
    const payload = Buffer.from(tone(20, 0x40)).toString('base64');
    app.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    app.ws.send('{not json');
    app.send({ event: 'hangup', streamSid: app.streamSid });
    app.send({ event: 'media', streamSid: 'MZ' + '0'.repeat(32), media: { payload } });
    app.send({ event: 'media', streamSid: app.streamSid, media: { payload, track: 'outbound' } });
    app.send({ event: 'media', streamSid: app.streamSid, media: { payload: 'not base64!' } });
    app.send({ event: 'media', streamSid: app.streamSid, media: { payload: Buffer.from('RIFF....WAVEfmt ').toString('base64') } });
    app.send({ event: 'mark', streamSid: app.streamSid, mark: { name: 'x' }, sequenceNumber: '1' });
    app.send({ event: 'clear', stream_sid: app.streamSid });
    await fake.waitFor((s) => s.violations.length === 9, 2000, '9 violations');
    expect(fake.violations.map((v) => v.slice(0, 5))).toEqual(['31950', ...Array<string>(8).fill('31951')]);
    expect(fake.receivedMedia).toEqual([]);
    expect(fake.marksEchoed).toEqual([]);
    expect(fake.clears).toEqual([]);
    expect(fake.errors).toEqual([]);
  });
});

describe('FakeTwilioMediaStream: caller audio', () => {
  it('paces 20 ms frames at 50 per second on its clock, with string sequence/chunk/timestamp', async () => {
    // The stream's own clock, faked: frame k is sent at 20k ms exactly, whatever else the machine is doing.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { fake, app } = await connectPair();
    const speech = loadSpeechFixture('booking-question').subarray(0, 8000); // exactly 1 s = 50 frames
    const played = fake.playCallerAudio(speech);
    const start = app.now();
    for (let k = 1; k < 50; k += 1) {
      await app.until(() => app.events('media').length === k);
      await vi.advanceTimersByTimeAsync(20);
    }
    await app.until(() => app.events('media').length === 50);
    expect(await played).toMatchObject({ framesSent: 50, complete: true });

    const media = app.events('media');
    expect(media.map((m) => m.atMs - start)).toEqual(media.map((_, k) => 20 * k));
    const fields = media.map((m) => m.msg['media'] as { track: string; chunk: string; timestamp: string; payload: string });
    expect(media.map((m) => m.msg['sequenceNumber'])).toEqual(media.map((_, i) => String(i + 2)));
    expect(fields.map((f) => f.chunk)).toEqual(media.map((_, i) => String(i + 1)));
    const t0 = Number(fields[0]!.timestamp);
    expect(fields.map((f) => f.timestamp)).toEqual(fields.map((_, i) => String(t0 + 20 * i)));
    expect(fields.every((f) => f.track === 'inbound')).toBe(true);
    expect(media.every((m) => m.msg['streamSid'] === fake.streamSid)).toBe(true);
    const bytes = Buffer.concat(fields.map((f) => Buffer.from(f.payload, 'base64')));
    expect(bytes.equals(Buffer.from(speech))).toBe(true);
  });

  it('streams continuous silence around caller speech with gap-free timestamps; dtmf and stop', async () => {
    const { fake, app } = await connectPair({ continuousSilence: true });
    await app.until(() => app.events('media').length >= 5);
    await fake.playCallerAudio(tone(100, 0x55));
    await app.until(() => app.events('media').length >= 15);
    fake.sendDtmf('5');
    await fake.hangUp();
    expect(fake.closeInfo).toMatchObject({ code: 1000, initiatedBy: 'twilio' });
    await app.until(() => app.events('stop').length === 1);

    const media = app.events('media').map((m) => m.msg['media'] as { timestamp: string; payload: string });
    const stamps = media.map((m) => Number(m.timestamp));
    expect(stamps).toEqual(stamps.map((_, i) => stamps[0]! + 20 * i));
    const frames = media.map((m) => Buffer.from(m.payload, 'base64'));
    const speechAt = frames.findIndex((f) => f[0] === 0x55);
    expect(speechAt).toBeGreaterThanOrEqual(4);
    expect(frames.slice(0, speechAt).every((f) => f.every((b) => b === 0xff))).toBe(true);
    expect(frames.slice(speechAt, speechAt + 5).every((f) => f.every((b) => b === 0x55))).toBe(true);
    expect(frames[speechAt + 5]?.every((b) => b === 0xff)).toBe(true);

    const seqs = app.messages.slice(1).map((m) => Number(m.msg['sequenceNumber']));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(app.events('dtmf')[0]!.msg).toMatchObject({ streamSid: fake.streamSid, dtmf: { track: 'inbound_track', digit: '5' } });
    expect(app.events('stop')[0]!.msg).toMatchObject({ streamSid: fake.streamSid, stop: { accountSid: TEST_ACCOUNT_SID, callSid: fake.callSid } });
    expect(app.messages[app.messages.length - 1]!.msg['event']).toBe('stop');
  });

  it('shows idle gaps as timestamp jumps when continuous silence is off', async () => {
    const { fake, app } = await connectPair();
    await fake.playCallerAudio(tone(40, 0x01));
    await new Promise((r) => setTimeout(r, 200));
    await fake.playCallerAudio(tone(40, 0x02), { realtime: false });
    await app.until(() => app.events('media').length === 4);
    const stamps = app.events('media').map((m) => Number((m.msg['media'] as { timestamp: string }).timestamp));
    expect(stamps[1]! - stamps[0]!).toBe(20);
    expect(stamps[2]! - stamps[1]!).toBeGreaterThanOrEqual(200);
    expect(stamps[3]! - stamps[2]!).toBe(20);
  });

  it('reports a server-initiated close', async () => {
    const { fake, app } = await connectPair({ continuousSilence: true });
    const pending = fake.playCallerAudio(tone(2000, 0x07));
    app.ws.close(1000, 'call ended by agent');
    const info = await fake.closed;
    expect(info).toMatchObject({ code: 1000, reason: 'call ended by agent', initiatedBy: 'server' });
    expect((await pending).complete).toBe(false);
    await expect(fake.waitForClear({ timeoutMs: 1000 })).rejects.toThrow(/closed/);
    expect(fake.errors).toEqual([]);
  });
});
