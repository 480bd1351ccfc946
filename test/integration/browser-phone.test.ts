import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { mulawDecodeSample } from '../../src/audio/mulaw.js';
import { BROWSER_PHONE_ACCOUNT_SID, type BrowserSession } from '../../src/browser-phone/browser-phone.js';
import { loadConfig } from '../../src/settings/resolve-config.js';
import { createRestaurantAgent } from '../../examples/restaurant/agent.js';
import { describeToolAnswer, localGreeting } from '../../src/local-agent/local-agent.js';
import { createLogger } from '../../src/observability/logger.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { BROWSER_CREDENTIAL_REFUSED } from '../../src/telephony/media-stream-server.js';
import { FakeTwilioMediaStream, TwilioHandshakeError, loadSpeechFixture, mulawSilence } from '../fakes/twilio/index.js';
import { restaurantGreetingCue } from '../support/bridge-harness.js';
import { waitUntil } from '../support/wait.js';
import { connectAsPage } from '../support/browser-phone-call.js';

/**
 * The browser phone's server side, with a Twilio-protocol client standing in for the page (the headless
 * browser test is test/browser): its authentication, and the local agent behind it, through the real server.
 */
interface LogLine {
  msg: string;
  [field: string]: unknown;
}

interface Running {
  app: RunningService;
  key: string;
  logs: LogLine[];
  logText: () => string;
  dir: string;
}

const running: Running[] = [];
/** The instance the page's media and events paths name. */
const INSTANCE = 'phone-1';

async function start(env: Record<string, string> = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'browser-phone-'));
  const logs: LogLine[] = [];
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'debug', INSTANCE_ID: INSTANCE, ...env });
  const app = await startService({ config, log: createLogger({ level: 'debug', destination }), agents: [createRestaurantAgent({ dataDir: config.stores.dataDir })] });
  const key = app.browserPhoneUrl?.split('#key=')[1] ?? '';
  const result = { app, key, logs, logText: () => text, dir };
  running.push(result);
  return result;
}

afterEach(async () => {
  for (const { app, dir } of running.splice(0)) {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function newSession({ app, key }: Running): Promise<BrowserSession> {
  const response = await fetch(`${app.localUrl}/phone/sessions`, { method: 'POST', headers: { Authorization: `Bearer ${key}` } });
  expect(response.status).toBe(201);
  return (await response.json()) as BrowserSession;
}

/** 20 ms RMS envelope of 8 kHz mu-law. */
function envelope(mulaw: Uint8Array): number[] {
  const frames: number[] = [];
  for (let i = 0; i + 160 <= mulaw.length; i += 160) {
    let sum = 0;
    for (let j = i; j < i + 160; j++) sum += mulawDecodeSample(mulaw[j]!) ** 2;
    frames.push(Math.sqrt(sum / 160));
  }
  return frames;
}

/** Best normalised correlation of two envelopes, `b` shifted by -maxLag..maxLag frames against `a`. */
function bestCorrelation(a: number[], b: number[], maxLag: number): number {
  let best = -1;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < a.length; i++) if (i + lag >= 0 && i + lag < b.length) pairs.push([a[i]!, b[i + lag]!]);
    if (pairs.length < a.length / 2) continue;
    const meanA = pairs.reduce((s, [x]) => s + x, 0) / pairs.length;
    const meanB = pairs.reduce((s, [, y]) => s + y, 0) / pairs.length;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (const [x, y] of pairs) {
      ab += (x - meanA) * (y - meanB);
      aa += (x - meanA) ** 2;
      bb += (y - meanB) ** 2;
    }
    if (aa > 0 && bb > 0) best = Math.max(best, ab / Math.sqrt(aa * bb));
  }
  return best;
}

describe('browser phone: authentication', () => {
  it('serves the page, and issues sessions only for the access key', async () => {
    const server = await start({ BROWSER_PHONE: '1' });
    const page = await fetch(`${server.app.localUrl}/phone`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('/phone/phone.js');
    expect((await fetch(`${server.app.localUrl}/phone/phone-worklets.js`)).status).toBe(200);

    for (const authorization of [undefined, 'Bearer wrong-key-of-a-plausible-length-000', `Basic ${server.key}`]) {
      const response = await fetch(`${server.app.localUrl}/phone/sessions`, { method: 'POST', headers: authorization === undefined ? {} : { Authorization: authorization } });
      expect(response.status).toBe(401);
    }
    const session = await newSession(server);
    expect(session.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(session.streamSid).toMatch(/^MZ[0-9a-f]{32}$/);
    expect(session.model).toBe('local');
    expect((await fetch(`${server.app.localUrl}${session.eventsPath}`)).status).toBe(401);
    expect(server.logText()).not.toContain(server.key);
  });

  it('refuses /media without a signature or a valid browser credential, and a credential twice', async () => {
    const server = await start({ BROWSER_PHONE: '1' });
    const ws = server.app.localUrl.replace('http://', 'ws://');
    const refusal = (url: string) =>
      FakeTwilioMediaStream.connect({ serverUrl: url, streamUrl: 'x', signature: null, authToken: '', callSid: `CA${'1'.repeat(32)}`, start: 'skip' }).then(
        async (stream) => {
          const closed = await stream.closed;
          return `closed ${closed.code}: ${closed.reason}`;
        },
        (error: unknown) => (error instanceof TwilioHandshakeError ? error.statusCode : error),
      );
    expect(await refusal(`${ws}/media`)).toBe(403); // Twilio is not configured, and no browser credential
    // A browser cannot read an HTTP status from a refused WebSocket: its refusal is a close with the reason.
    const refused = `closed 1008: ${BROWSER_CREDENTIAL_REFUSED}`;
    expect(await refusal(`${ws}/media/${INSTANCE}?browserPhone=made-up`)).toBe(refused);

    const session = await newSession(server);
    expect(session.mediaPath).toMatch(new RegExp(`^/media/${INSTANCE}\\?browserPhone=[\\w-]{43}$`));
    expect(session.eventsPath).toBe(`/phone/events/${INSTANCE}/${session.callSid}`);
    const page = await connectAsPage(server.app.localUrl, session);
    await page.waitForAgentAudio({ timeoutMs: 10_000 });
    expect(await refusal(`${ws}${session.mediaPath}`)).toBe(refused); // single use
    await page.hangUp();
    expect(server.app.localModel!.journals).toHaveLength(1); // the refused streams opened no conversation
  });

  it('opens no model session when the start is for another call, or claims a Twilio account', async () => {
    const server = await start({ BROWSER_PHONE: '1' });
    const model = server.app.localModel!;
    for (const overrides of [{ callSid: `CA${'2'.repeat(32)}` }, { accountSid: `AC${'3'.repeat(32)}` }]) {
      const page = await connectAsPage(server.app.localUrl, await newSession(server), overrides);
      const closed = await page.closed;
      expect(closed.code).toBe(1008);
    }
    expect(model.journals).toHaveLength(0);
    expect(server.app.calls.size).toBe(0);
  });

  it('does not exist when turned off', async () => {
    const server = await start({ BROWSER_PHONE: '0', PUBLIC_URL: 'https://agent.example.test', TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'token' });
    expect(server.app.browserPhoneUrl).toBeUndefined();
    expect((await fetch(`${server.app.localUrl}/phone`)).status).toBe(404);
    expect((await fetch(`${server.app.localUrl}/phone/sessions`, { method: 'POST' })).status).toBe(404);
  });
});

describe('browser phone: the local agent', () => {
  it('greets, plays the caller back through the whole audio path, answers, and looks up a booking from keys', async () => {
    const server = await start({ BROWSER_PHONE: '1' });
    const session = await newSession(server);
    const events: Array<{ type: string; [key: string]: unknown }> = [];
    const eventsDone = (async () => {
      const response = await fetch(`${server.app.localUrl}${session.eventsPath}`, { headers: { Authorization: `Bearer ${server.key}` } });
      const decoder = new TextDecoder();
      let pending = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        pending += decoder.decode(chunk, { stream: true });
        let boundary;
        while ((boundary = pending.indexOf('\n\n')) !== -1) {
          const block = pending.slice(0, boundary);
          pending = pending.slice(boundary + 2);
          if (block.startsWith('data: ')) events.push(JSON.parse(block.slice(6)) as { type: string });
        }
      }
    })();

    const page = await connectAsPage(server.app.localUrl, session);
    expect(session.accountSid).toBe(BROWSER_PHONE_ACCOUNT_SID);
    const { journals } = server.app.localModel!;
    await waitUntil('a conversation', () => journals.length === 1, 10_000);
    const live = journals[0]!;
    await waitUntil('the greeting', () => live.replies.some((reply) => reply.outcome === 'completed'), 10_000);
    await page.waitForPlayoutIdle(10_000);
    const greetingBytes = page.receivedAudio.length;

    const question = loadSpeechFixture('booking-question');
    await page.playCallerAudio(question);
    const spokenTurn = () => live.callerTurns.find((turn) => turn.kind === 'speech');
    await waitUntil('the reply to the question', () => live.replies.some((reply) => reply.turn === spokenTurn()?.index && reply.outcome === 'completed'), 20_000);
    await page.waitForPlayoutIdle(10_000);
    const reply = page.receivedAudio.subarray(greetingBytes);
    // The reply starts with the caller's own words: their loudness contour comes back (16 kHz → 24 kHz → 8 kHz mu-law).
    const spoken = envelope(question);
    const echoed = envelope(reply.subarray(0, question.length));
    expect(bestCorrelation(spoken, echoed, 50)).toBeGreaterThan(0.85);
    expect(reply.length / 8).toBeGreaterThan(question.length / 8 + 1_000); // then the canned line

    for (const digit of ['5', '7', '7', '2', '6', '9', '#'] as const) page.sendDtmf(digit);
    await waitUntil('a tool answer', () => live.toolAnswers.length > 0, 10_000);
    // The local agent sends the digits to the agent's tool that takes a code (the restaurant's find_booking)...
    expect(live.toolCalls[0]).toMatchObject({ name: 'find_booking', args: { code: '577269' } });
    const answer = live.toolAnswers[0]!;
    expect(JSON.stringify(answer.response)).toContain('Dana Whitfield');
    // ...and speaks what the tool answered, in its generic words (describeToolAnswer), to the end of the turn.
    const spokenAnswer = describeToolAnswer(answer);
    await waitUntil('the answer spoken', () => live.replies.some((reply) => reply.text === spokenAnswer && reply.outcome === 'completed'), 10_000);
    // What the caller hears names the booking found.
    expect(spokenAnswer).toContain('Dana Whitfield');

    await page.playSilence(200);
    await page.hangUp();
    await eventsDone;
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('ended');
    // The stand-in names the agent it stands in for and shows the greeting instruction it cannot follow.
    const agentSaid = events.filter((e) => e.type === 'transcript' && e.speaker === 'agent').map((e) => e.text).join('');
    expect(agentSaid).toContain(`[greeting instruction] ${restaurantGreetingCue()} ${localGreeting('restaurant')}`);
    expect(events.find((e) => e.type === 'transcript' && e.speaker === 'caller')?.text).toMatch(/you spoke for \d\.\d s/);
    expect(events.some((e) => e.type === 'latency' && typeof e.responseMs === 'number' && e.responseMs > 0 && e.responseMs < 3_000)).toBe(true);
    expect(events.find((e) => e.type === 'toolResult')).toMatchObject({ name: 'find_booking', ok: true });
    expect(events.find((e) => e.type === 'ended')).toMatchObject({ reason: 'caller-hung-up' });
  }, 60_000);

  it('is interrupted by talking over it, like the real model', async () => {
    const server = await start({ BROWSER_PHONE: '1' });
    const page = await connectAsPage(server.app.localUrl, await newSession(server));
    const { journals } = server.app.localModel!;
    await waitUntil('a conversation', () => journals.length === 1, 10_000);
    const live = journals[0]!;
    await waitUntil('the greeting under way', () => live.replies.some((reply) => reply.outcome === 'playing'), 10_000);
    await page.waitForAgentAudio({ timeoutMs: 10_000 });
    await page.playCallerAudio(loadSpeechFixture('short-hello'));
    const clear = await page.waitForClear({ timeoutMs: 10_000 });
    expect(clear.discardedBytes).toBeGreaterThan(0);
    expect(live.interruptions).toBe(1);
    expect(live.replies[0]!.outcome).toBe('interrupted');
    await page.playCallerAudio(mulawSilence(200));
    await page.hangUp();
  }, 30_000);
});

describe('browser phone: what a new user sees', () => {
  it('checks the access key without side effects, so the page reports a wrong one before asking for the microphone', async () => {
    const server = await start({ BROWSER_PHONE: '1' });
    expect((await fetch(`${server.app.localUrl}/phone/key`, { headers: { Authorization: `Bearer ${server.key}` } })).status).toBe(204);
    for (const headers of [{}, { Authorization: 'Bearer a-key-from-the-previous-start-0000' }] as Array<Record<string, string>>) {
      expect((await fetch(`${server.app.localUrl}/phone/key`, { headers })).status).toBe(401);
    }
    expect(server.app.calls.size).toBe(0);
    const favicon = await fetch(`${server.app.localUrl}/phone/favicon.svg`);
    expect(favicon.status).toBe(200);
    expect(favicon.headers.get('content-type')).toContain('image/svg+xml');
    expect(await (await fetch(`${server.app.localUrl}/phone`)).text()).toContain('rel="icon" href="/phone/favicon.svg"');
  });

  it('GET / shows the way to the browser phone in development, never its key; in production it only says what runs', async () => {
    const dev = await start({ BROWSER_PHONE: '1' });
    const home = await fetch(`${dev.app.localUrl}/`);
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('href="/phone"');
    expect(html).toContain('#key=');
    expect(html).not.toContain(dev.key);
    expect((await fetch(`${dev.app.localUrl}/favicon.ico`)).status).toBe(204);

    const prod = await start({ BROWSER_PHONE: '0', PUBLIC_URL: 'https://agent.example.test', TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'token' });
    const plain = await fetch(`${prod.app.localUrl}/`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toContain('text/plain');
    expect(await plain.text()).not.toContain('/phone');
  });

  it('a call that fails before any agent audio says why: the model unreachable, with the error, and no key in it', async () => {
    const apiKey = 'AIzaSyTESTKEY-that-must-never-reach-a-page';
    // The SDK reads its endpoint from the environment: a local port where nothing listens, never Google.
    const previousBaseUrl = process.env.GOOGLE_GEMINI_BASE_URL;
    process.env.GOOGLE_GEMINI_BASE_URL = 'http://127.0.0.1:9';
    let text: string;
    try {
      const server = await start({ BROWSER_PHONE: '1', GEMINI_API_KEY: apiKey, GEMINI_SETUP_TIMEOUT_MS: '2000' });
      const session = await newSession(server);
      const response = await fetch(`${server.app.localUrl}${session.eventsPath}`, { headers: { Authorization: `Bearer ${server.key}` } });
      const page = await connectAsPage(server.app.localUrl, session);
      await page.closed;
      text = await response.text(); // the stream ends after the call's `ended`
    } finally {
      if (previousBaseUrl === undefined) delete process.env.GOOGLE_GEMINI_BASE_URL;
      else process.env.GOOGLE_GEMINI_BASE_URL = previousBaseUrl;
    }
    const events = text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => JSON.parse(block.slice(6)) as { type: string; reason?: string; detail?: string; summary?: Record<string, unknown> });
    const ended = events.find((event) => event.type === 'ended');
    expect(ended).toMatchObject({ reason: 'model-setup-failed', detail: expect.stringMatching(/^could not open a model session: .*(ECONNREFUSED|connect)/) });
    expect(ended!.summary!.streamStartToFirstAgentAudioMs).toBeUndefined();
    expect(text).not.toContain(apiKey);
  });
});
