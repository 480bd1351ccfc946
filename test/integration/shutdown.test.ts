import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BUSY_MESSAGE } from '../../src/telephony/voice-webhook.js';
import { startFakeGeminiLive, type FakeGeminiLive } from '../fakes/gemini-live/server.js';
import {
  FakeTwilioMediaStream,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  defaultVoiceWebhookParams,
  loadSpeechFixture,
  parseConnectStreamTwiml,
  postVoiceWebhook,
} from '../fakes/twilio/index.js';
import { GEMINI_TEST_KEY, PUBLIC_URL } from '../support/bridge-harness.js';

interface Service {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output: () => string;
}

/** The real entry point (src/main.ts) in its own process, as `npm start` runs it, so signals are real. */
async function startService(gemini: FakeGeminiLive, env: Record<string, string> = {}): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      PUBLIC_URL,
      GEMINI_API_KEY: GEMINI_TEST_KEY,
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      GOOGLE_GEMINI_BASE_URL: gemini.baseUrl,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 20_000);
    const check = (): void => {
      const match = /"localUrl":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      resolve(match[1]);
    };
    child.stdout?.on('data', check);
    void exited.then(() => reject(new Error(`service exited:\n${output}`)));
  });
  return { child, url, exited, output: () => output };
}

async function placeCall(service: Service) {
  const params = defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID });
  const response = await postVoiceWebhook({ serverUrl: service.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params });
  const twiml = parseConnectStreamTwiml(response.body);
  return FakeTwilioMediaStream.connect({
    serverUrl: `${service.url.replace('http', 'ws')}/media`,
    streamUrl: twiml.streamUrl,
    authToken: TEST_AUTH_TOKEN,
    accountSid: TEST_ACCOUNT_SID,
    callSid: params.CallSid as string,
    customParameters: twiml.parameters,
  });
}

describe('graceful shutdown on SIGTERM', () => {
  let gemini: FakeGeminiLive | undefined;
  let service: Service | undefined;
  afterEach(async () => {
    service?.child.kill('SIGKILL');
    await gemini?.close();
    service = undefined;
    gemini = undefined;
  });

  it('stops taking calls at once, lets the live call finish, then exits 0', async () => {
    gemini = await startFakeGeminiLive({ apiKey: GEMINI_TEST_KEY, replies: ({ source }) => ({ text: source === 'text' ? 'Hello there.' : 'Sure thing.' }) });
    service = await startService(gemini);
    const twilio = await placeCall(service);
    const session = await gemini.waitForSession(0);
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);

    service.child.kill('SIGTERM');
    await expect.poll(async () => (await fetch(`${service!.url}/readyz`)).status, { timeout: 1_000 }).toBe(503);
    const refused = await postVoiceWebhook({
      serverUrl: service.url,
      publicUrl: PUBLIC_URL,
      authToken: TEST_AUTH_TOKEN,
      params: defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID }),
    });
    expect(refused.body).toContain(BUSY_MESSAGE);

    // The call in progress is untouched: the caller is heard and answered.
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await session.waitUntil((s) => s.modelTurns.filter((turn) => turn.outcome === 'completed').length === 2, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    expect(twilio.isOpen).toBe(true);

    await twilio.hangUp();
    expect(await service.exited).toBe(0);
    expect(gemini.sessions.length).toBe(1);
    expect(service.output()).toContain('"endedByTimeout":0');
  }, 30_000);

  it('ends calls still running when DRAIN_TIMEOUT_MS passes, then exits 0', async () => {
    gemini = await startFakeGeminiLive({ apiKey: GEMINI_TEST_KEY, replies: () => ({ text: 'Hello.' }) });
    service = await startService(gemini, { DRAIN_TIMEOUT_MS: '1500' });
    const twilio = await placeCall(service);
    const session = await gemini.waitForSession(0);
    await session.waitUntil((s) => s.setupCompleteSent, 5_000);

    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const drainedMs = Date.now() - signalledAt;
    expect(drainedMs).toBeGreaterThanOrEqual(1_400);
    expect(drainedMs).toBeLessThan(5_000);
    await twilio.closed;
    expect((await session.closed).initiatedBy).not.toBe('server');
    expect(service.output()).toContain('"endedByTimeout":1');
  }, 30_000);
});
