import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGeminiLive, type FakeGeminiLive } from '../fakes/gemini-live/server.js';
import { INVALID_CREDENTIAL } from '../fakes/gemini-live/vertex.js';
import type { GeminiAuth } from '../../src/model/gemini/gemini-auth.js';
import { GeminiLiveSession, ModelSetupError, type GeminiSessionOptions, type SessionEvent } from '../../src/model/gemini/live-session.js';
import { createLogger } from '../../src/observability/logger.js';
import { GOOGLE_TOKEN_URL, startServiceAccount, transportTo, type ServiceAccount, type TokenEndpoint } from '../support/vertex-credentials.js';

/**
 * Vertex AI end to end without the internet: the real SDK in Vertex mode, real Application Default
 * Credentials (a service-account key file named by GOOGLE_APPLICATION_CREDENTIALS, read, signed and exchanged
 * by google-auth-library), a local OAuth token endpoint that verifies the signed JWT-bearer grant, and the
 * local Live server on the Vertex path with the bearer token it must see.
 * The one seam (the token URL) is described in test/support/vertex-credentials.ts.
 */

const PROJECT = 'vertex-test-project';
const LOCATION = 'us-central1';
const MODEL = 'gemini-live-2.5-flash-native-audio';
const AUTH: GeminiAuth = { kind: 'vertex', project: PROJECT, location: LOCATION };

const ENV_KEYS = ['GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_VERTEX_BASE_URL', 'GOOGLE_GENAI_API_VERSION', 'GEMINI_API_KEY', 'GOOGLE_API_KEY'] as const;

function tone(ms: number, freq = 220, amplitude = 0.25): Int16Array {
  const n = Math.round(ms * 16);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(Math.sin((2 * Math.PI * freq * i) / 16000) * amplitude * 32767);
  return out;
}

describe('Gemini Live on Vertex AI (Application Default Credentials)', () => {
  let account: ServiceAccount;
  let tokens: TokenEndpoint;
  let live: FakeGeminiLive;
  const savedEnv = new Map<string, string | undefined>();
  const sessions: GeminiLiveSession[] = [];

  beforeEach(async () => {
    for (const key of ENV_KEYS) savedEnv.set(key, process.env[key]);
    for (const key of ENV_KEYS) delete process.env[key];
    account = await startServiceAccount(PROJECT);
    tokens = account.tokens;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = account.keyFile;
    live = await startFakeGeminiLive({ accessToken: account.accessToken, models: [MODEL], replies: [{ text: 'Hello from Vertex' }] });
    process.env.GOOGLE_VERTEX_BASE_URL = live.baseUrl;
  });

  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    await live.close();
    await account.close();
    for (const [key, value] of savedEnv) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  function open(events: SessionEvent[], overrides: Partial<GeminiSessionOptions> = {}): Promise<GeminiLiveSession> {
    const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
    return GeminiLiveSession.open({
      auth: AUTH,
      model: MODEL,
      apiVersion: undefined,
      voice: 'Kore',
      instructions: 'You answer the phone.',
      tools: [],
      setupTimeoutMs: 5_000,
      googleAuthOptions: { clientOptions: { transporter: transportTo(tokens.url) } },
      log,
      onEvent: (event) => events.push(event),
      ...overrides,
    }).then((session) => {
      sessions.push(session);
      return session;
    });
  }

  it('signs in with the service-account key, opens the LlmBidiService path with the bearer token, and round-trips audio', async () => {
    const events: SessionEvent[] = [];
    const session = await open(events);

    // ADC: one verified JWT-bearer grant from the key file's service account.
    expect(tokens.refused).toEqual([]);
    expect(tokens.grants).toHaveLength(1);
    expect(tokens.grants[0]).toMatchObject({ iss: account.clientEmail, aud: GOOGLE_TOKEN_URL });

    const fake = await live.waitForSession(0);
    // The SDK's Vertex URL: base URL (no path → `//ws/...`), default API version v1beta1, no key in the query.
    expect(fake.path).toBe('//ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent');
    expect(fake.apiVersion).toBe('v1beta1');
    expect(fake.apiKey).toBeUndefined();
    expect(fake.headers.authorization).toBe(`Bearer ${account.accessToken}`);
    expect(fake.headers['x-goog-api-key']).toBeUndefined();
    expect(fake.setup?.model).toBe(`projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/${MODEL}`);
    expect(fake.setupCompleteSent).toBe(true);

    // Caller speech in (16 kHz), model speech out (24 kHz), through the session's own API.
    const speech = [...tone(600), ...new Array<number>(700 * 16).fill(0)];
    for (let i = 0; i < speech.length; i += 320) {
      expect(session.sendAudio(new Uint8Array(Int16Array.from(speech.slice(i, i + 320)).buffer))).toBe(true);
    }
    await expect.poll(() => events.some((event) => event.type === 'turnComplete'), { timeout: 5_000 }).toBe(true);
    expect(fake.turns[0]?.source).toBe('audio');
    expect(events.filter((event) => event.type === 'audio').length).toBeGreaterThan(0);
    expect(events).toContainEqual({ type: 'outputTranscript', text: expect.any(String) as string });
    expect(fake.receivedAudio16k.sampleCount).toBe(speech.length);
  });

  it('also takes the API version and base URL as options', async () => {
    delete process.env.GOOGLE_VERTEX_BASE_URL;
    await open([], { apiVersion: 'v1', baseUrl: `${live.baseUrl}/proxy` });
    const fake = await live.waitForSession(0);
    expect(fake.path).toBe('/proxy/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent');
    expect(fake.setupCompleteSent).toBe(true);
  });

  it('fails the open with a clear ModelSetupError when the service refuses the token', async () => {
    await live.close();
    live = await startFakeGeminiLive({ accessToken: 'ya29.some-other-token', models: [MODEL] });
    process.env.GOOGLE_VERTEX_BASE_URL = live.baseUrl;
    const opening = open([]);
    await expect(opening).rejects.toBeInstanceOf(ModelSetupError);
    const error = (await opening.catch((e: unknown) => e)) as ModelSetupError;
    expect(error.timedOut).toBe(false);
    expect(error.message).toMatch(/401/);
    expect(error.message).toMatch(/Vertex AI refused the credentials/);
    expect(error.message).not.toContain(account.accessToken);
    // Refused on the upgrade: no WebSocket session ever existed.
    expect(live.sessions).toHaveLength(0);
    expect(INVALID_CREDENTIAL).toMatch(/^Request had invalid authentication credentials/);
  });

  it('fails the open with a clear ModelSetupError when ADC cannot get a token', async () => {
    const opening = open([], { googleAuthOptions: { clientOptions: { transporter: transportTo(`${tokens.url}-missing`) } } });
    await expect(opening).rejects.toBeInstanceOf(ModelSetupError);
    await expect(opening).rejects.toThrow(/Application Default Credentials could not produce an access token for Vertex AI/);
    expect(live.sessions).toHaveLength(0);
  });
});

describe('Gemini Live on Vertex AI (ADC from the metadata server, as on Cloud Run)', () => {
  const KEYS = [...ENV_KEYS, 'GCE_METADATA_HOST', 'GCE_METADATA_IP', 'METADATA_SERVER_DETECTION', 'CLOUDSDK_CONFIG', 'GOOGLE_CLOUD_PROJECT'] as const;
  const saved = new Map<string, string | undefined>();
  const accessToken = `ya29.metadata-${randomBytes(12).toString('hex')}`;
  let metadata: Server;
  let requests: { path: string; flavor: string | undefined }[];
  let live: FakeGeminiLive;
  let dir: string;

  beforeEach(async () => {
    for (const key of KEYS) saved.set(key, process.env[key]);
    for (const key of KEYS) delete process.env[key];
    requests = [];
    // The metadata server's two answers ADC needs: the presence check and the default account's token.
    metadata = createServer((req, res) => {
      const flavor = req.headers['metadata-flavor'] as string | undefined;
      const path = (req.url ?? '').split('?')[0] ?? '';
      requests.push({ path, flavor });
      if (flavor !== 'Google') {
        res.writeHead(403).end('Missing Metadata-Flavor:Google header.');
        return;
      }
      res.setHeader('Metadata-Flavor', 'Google');
      if (path === '/computeMetadata/v1/instance') {
        res.writeHead(200, { 'content-type': 'application/text' }).end('');
      } else if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }));
      } else {
        res.writeHead(404).end('Not Found');
      }
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    process.env.GCE_METADATA_HOST = `127.0.0.1:${(metadata.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'vertex-gcloud-'));
    process.env.CLOUDSDK_CONFIG = dir; // no gcloud ADC file: the metadata server is the source
    // Set in a Vertex deployment anyway; without it ADC first spends seconds looking for a project id (gcloud CLI).
    process.env.GOOGLE_CLOUD_PROJECT = PROJECT;
    live = await startFakeGeminiLive({ accessToken, models: [MODEL] });
    process.env.GOOGLE_VERTEX_BASE_URL = live.baseUrl;
  });

  afterEach(async () => {
    await live.close();
    await new Promise<void>((resolve) => {
      metadata.close(() => resolve());
      metadata.closeAllConnections();
    });
    rmSync(dir, { recursive: true, force: true });
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('uses the attached service account token, with no seam in the libraries', async () => {
    const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
    const session = await GeminiLiveSession.open({
      auth: AUTH,
      model: MODEL,
      apiVersion: undefined,
      voice: 'Kore',
      instructions: 'You answer the phone.',
      tools: [],
      setupTimeoutMs: 5_000,
      log,
      onEvent: () => {},
    });
    try {
      const fake = await live.waitForSession(0);
      expect(fake.headers.authorization).toBe(`Bearer ${accessToken}`);
      expect(fake.setupCompleteSent).toBe(true);
      expect(requests.map((r) => r.path)).toContain('/computeMetadata/v1/instance/service-accounts/default/token');
      expect(requests.every((r) => r.flavor === 'Google')).toBe(true);
    } finally {
      session.close();
    }
  });
});
