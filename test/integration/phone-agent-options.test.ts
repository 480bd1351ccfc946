import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent, startPhoneAgent, StartupError, type PhoneAgentSettings } from '../../src/index.js';
import { startFakeGeminiLive, type FakeGeminiLive } from '../fakes/gemini-live/server.js';
import { BUSY_MESSAGE } from '../../src/telephony/voice-webhook.js';
import { defaultVoiceWebhookParams, FakeTwilioMediaStream, parseConnectStreamTwiml, postVoiceWebhook, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../fakes/twilio/index.js';

/**
 * `startPhoneAgent` configured from code alone (typed settings, `env: {}`), through the package's public entry, the
 * real server, the real SDK and the fakes: the settings given in code are the ones that take effect, and a bad one
 * stops the start with the same words the environment would get.
 */

const PUBLIC_URL = 'https://agent.example.test';
const GEMINI_KEY = 'typed-settings-key';
const agent = defineAgent({ name: 'dental', instructions: 'You answer calls for Bright Smile Dental.', voice: 'Aoede' });

let gemini: FakeGeminiLive;
let dataDir: string;

beforeAll(async () => {
  gemini = await startFakeGeminiLive({ apiKey: GEMINI_KEY, replies: ({ heardText }) => (heardText === undefined ? undefined : { text: 'Hello.' }) });
  dataDir = mkdtempSync(join(tmpdir(), 'typed-settings-'));
});

afterAll(async () => {
  await gemini?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function settings(): PhoneAgentSettings {
  return {
    port: 0,
    host: '127.0.0.1',
    publicUrl: PUBLIC_URL,
    gemini: { apiKey: GEMINI_KEY, baseUrl: gemini.baseUrl, setupTimeoutMs: 2_000 },
    twilio: { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN },
    limits: { maxConcurrentCalls: 1 },
    stores: { dataDir },
    browserPhone: { enabled: false },
    logging: { level: 'silent' },
  };
}

async function ring(url: string): Promise<{ callSid: string; body: string }> {
  const params = defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID });
  const response = await postVoiceWebhook({ serverUrl: url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params });
  expect(response.status).toBe(200);
  return { callSid: params.CallSid as string, body: response.body };
}

describe('startPhoneAgent with typed settings', () => {
  it('runs from code alone: its Gemini endpoint, its Twilio account and its line limit are the ones given', async () => {
    const service = await startPhoneAgent({ agents: agent, env: {}, handleSignals: false, banner: false, ...settings() });
    try {
      expect(service.browserPhoneUrl).toBeUndefined();
      const { callSid, body } = await ring(service.url);
      const twiml = parseConnectStreamTwiml(body);
      const twilio = await FakeTwilioMediaStream.connect({
        serverUrl: `${service.url.replace('http://', 'ws://')}/media`,
        streamUrl: twiml.streamUrl,
        authToken: TEST_AUTH_TOKEN,
        accountSid: TEST_ACCOUNT_SID,
        callSid,
        customParameters: twiml.parameters,
      });
      // gemini.baseUrl from code: the session reached this fake, with the agent's settings.
      const session = await gemini.waitForSession(0);
      expect(JSON.stringify(session.setup?.systemInstruction)).toContain('Bright Smile Dental');
      await twilio.waitForAgentAudio({ timeoutMs: 10_000 });
      expect(service.activeCalls).toBe(1);
      // limits.maxConcurrentCalls from code: the one line is taken.
      expect((await ring(service.url)).body).toContain(BUSY_MESSAGE);
      await twilio.hangUp();
    } finally {
      await service.stop();
    }
  }, 30_000);

  it('stops the start with every bad setting named both ways, from code and from the environment at once', async () => {
    const start = startPhoneAgent({
      agents: agent,
      handleSignals: false,
      banner: false,
      ...settings(),
      limits: { maxConcurrentCalls: 0 },
      env: { LOG_LEVEL: 'chatty', PORT: 'ignored: code sets the port' },
    });
    await expect(start).rejects.toBeInstanceOf(StartupError);
    await expect(start).rejects.toMatchObject({
      problems: ['MAX_CONCURRENT_CALLS (limits.maxConcurrentCalls) must be an integer from 1 to 100000 (got 0)'],
    });
    // Code sets logging.level, so the environment's LOG_LEVEL is not read; without it the variable is judged.
    const { logging: _, ...withoutLogging } = settings();
    await expect(startPhoneAgent({ agents: agent, handleSignals: false, banner: false, ...withoutLogging, env: { LOG_LEVEL: 'chatty' } })).rejects.toMatchObject({
      problems: ['LOG_LEVEL (logging.level) must be one of fatal, error, warn, info, debug, trace, silent (got "chatty")'],
    });
  });
});
