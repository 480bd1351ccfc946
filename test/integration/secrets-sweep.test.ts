/**
 * Every secret the service is configured with stays out of everything it prints: the service as `npm start` runs
 * it, in production mode, with every secret set, through a failed start, calls (Twilio and browser), refusals and
 * failures (the model unreachable, Twilio's API unreachable), down to its shutdown. Stdout is the JSON log, stderr
 * the banner and anything else; both are searched whole.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeGeminiLive, type FakeGeminiLive } from '../fakes/gemini-live/server.js';
import {
  FakeTwilioMediaStream,
  loadSpeechFixture,
  parseConnectStreamTwiml,
  postVoiceWebhook,
  startFakeTwilioRestApi,
  TEST_ACCOUNT_SID,
  type FakeTwilioRestApi,
} from '../fakes/twilio/index.js';
import { openBrowserPhoneCall } from '../support/browser-phone-call.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const PUBLIC_URL = 'https://agent.example.test';
const SECRETS = {
  GEMINI_API_KEY: 'gemini-secret-AIzaSyD-0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'twilio-secret-0123456789abcdef01',
  BROWSER_PHONE_KEY: 'browser-secret-0123456789abcdef0123',
  OUTBOUND_API_KEY: 'outbound-secret-0123456789abcdef0123',
  METRICS_API_KEY: 'metrics-secret-0123456789abcdef01234567',
  TOOL_WEBHOOK_SECRET: 'tool-secret-0123456789abcdef012345',
} as const;

let dir: string;
let gemini: FakeGeminiLive;
let rest: FakeTwilioRestApi;
let child: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'secrets-sweep-'));
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ name: 'sweep', instructions: 'You answer the phone.' }));
  gemini = await startFakeGeminiLive({ apiKey: SECRETS.GEMINI_API_KEY, replies: () => ({ text: 'Hello, how can I help?' }) });
  rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: SECRETS.TWILIO_AUTH_TOKEN });
  rest.addIncomingNumber({ phoneNumber: '+14155550100' });
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await rest.close().catch(() => undefined);
  await gemini.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function environment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    AGENT: join(dir, 'agent.json'),
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'),
    PUBLIC_URL,
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_PHONE_NUMBER: '+14155550100',
    TWILIO_API_BASE_URL: rest.baseUrl,
    GOOGLE_GEMINI_BASE_URL: gemini.baseUrl,
    BROWSER_PHONE: '1',
    ...SECRETS,
    ...extra,
  };
}

/** The service as `npm start` runs it (through tsx, to skip the build); everything it prints is kept. */
function spawnService(env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null>; printed: () => string } {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const service = spawn(process.execPath, [tsx, MAIN], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  service.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  service.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  return { child: service, exited: new Promise((resolve) => service.once('exit', resolve)), printed: () => printed };
}

function expectNoSecret(text: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) expect(text.includes(secret), `${name} printed`).toBe(false);
}

it('a start that fails on invalid secrets names them, never their values', async () => {
  const failed = spawnService(environment({ METRICS_API_KEY: 'metrics-secret-too-short', OUTBOUND_API_KEY: 'outbound secret with spaces 0123456789' }));
  expect(await failed.exited).toBe(1);
  expect(failed.printed()).toContain('METRICS_API_KEY (metrics.apiKey) must be');
  expect(failed.printed()).toContain('OUTBOUND_API_KEY (outbound.apiKey) must be');
  expect(failed.printed()).not.toContain('metrics-secret-too-short');
  expect(failed.printed()).not.toContain('outbound secret with spaces');
  expectNoSecret(failed.printed());
}, 30_000);

it('keeps every secret out of stdout, stderr and the log through calls, refusals, failures and shutdown', async () => {
  const service = spawnService(environment());
  child = service.child;
  const url = await waitForListening(service.printed);
  const wsUrl = url.replace('http://', 'ws://');

  // A Twilio call: signed webhook, stream, the caller speaks, the agent answers, the caller hangs up.
  const webhook = await postVoiceWebhook({ serverUrl: url, publicUrl: PUBLIC_URL, authToken: SECRETS.TWILIO_AUTH_TOKEN, params: { AccountSid: TEST_ACCOUNT_SID } });
  expect(webhook.status).toBe(200);
  const twiml = parseConnectStreamTwiml(webhook.body);
  const streamToken = Object.values(twiml.parameters)[0]!;
  const call = await FakeTwilioMediaStream.connect({ serverUrl: wsUrl, streamUrl: twiml.streamUrl, authToken: SECRETS.TWILIO_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, callSid: webhook.params.CallSid!, customParameters: twiml.parameters });
  const session = await gemini.waitForSession(0);
  await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
  await call.playCallerAudio(loadSpeechFixture('short-hello'));
  await session.waitUntil((s) => s.modelTurns.length >= 2, 10_000);
  await call.hangUp();

  // A browser call, and its event stream.
  const { session: page, stream: phone } = await openBrowserPhoneCall(url, SECRETS.BROWSER_PHONE_KEY);
  const events = await fetch(`${url}${page.eventsPath}`, { headers: { Authorization: `Bearer ${SECRETS.BROWSER_PHONE_KEY}` } });
  expect(events.status).toBe(200);
  await gemini.waitForSession(1);
  await phone.hangUp();
  await events.body?.cancel();

  // An outbound call, placed through Twilio's (fake) API, and the metrics.
  const placed = await fetch(`${url}/calls`, { method: 'POST', headers: { Authorization: `Bearer ${SECRETS.OUTBOUND_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ to: '+14155550142' }) });
  expect(placed.status).toBe(201);
  expect((await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${SECRETS.METRICS_API_KEY}` } })).status).toBe(200);

  // Refusals from every door, each with a wrong key or signature.
  expect((await postVoiceWebhook({ serverUrl: url, publicUrl: PUBLIC_URL, authToken: 'not-the-token', params: { AccountSid: TEST_ACCOUNT_SID } })).status).toBe(403);
  expect((await fetch(`${url}/calls`, { method: 'POST', headers: { Authorization: 'Bearer wrong-key-0123456789abcdef0123456', 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
  expect((await fetch(`${url}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
  expect((await fetch(`${url}/phone/sessions`, { method: 'POST', headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
  expect((await fetch(`${url}/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-7' }, body: 'CallSid=x' })).status).toBe(415);
  const upgrade = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${wsUrl}/media`, { headers: { 'x-twilio-signature': 'bad' } });
    ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
  expect(upgrade).toBe(403);

  // Failures: Twilio's API and the model out of reach.
  await rest.close();
  const unplaced = await fetch(`${url}/calls`, { method: 'POST', headers: { Authorization: `Bearer ${SECRETS.OUTBOUND_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ to: '+14155550143' }) });
  expect(unplaced.status).toBe(502);
  await gemini.close();
  const lost = await postVoiceWebhook({ serverUrl: url, publicUrl: PUBLIC_URL, authToken: SECRETS.TWILIO_AUTH_TOKEN, params: { AccountSid: TEST_ACCOUNT_SID } });
  const lostTwiml = parseConnectStreamTwiml(lost.body);
  const failing = await FakeTwilioMediaStream.connect({ serverUrl: wsUrl, streamUrl: lostTwiml.streamUrl, authToken: SECRETS.TWILIO_AUTH_TOKEN, accountSid: TEST_ACCOUNT_SID, callSid: lost.params.CallSid!, customParameters: lostTwiml.parameters });
  await failing.closed;

  // Shutdown.
  service.child.kill('SIGTERM');
  expect(await service.exited).toBe(0);

  output = service.printed();
  expect(output).toContain('could not open a model session'); // the failures really were logged...
  expect(output).toContain('outbound call could not be placed');
  expect(output).toContain('/phone#key=<BROWSER_PHONE_KEY>'); // ...and the banner says where the key goes
  expectNoSecret(output);
  expect(output).not.toContain(streamToken);
}, 90_000);

async function waitForListening(printed: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const match = /"localUrl":"(http:\/\/[^"]+)"/.exec(printed());
    if (match !== null) return match[1]!;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the service did not start:\n${printed()}`);
}
