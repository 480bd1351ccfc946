import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/doctor/check.js';
import { runDoctorCommand } from '../../src/doctor/cli.js';
import { runDoctor, type DoctorOptions } from '../../src/doctor/doctor.js';
import { startFakeGeminiLive, type FakeGeminiLive } from '../fakes/gemini-live/server.js';
import { startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioRestApi } from '../fakes/twilio/index.js';
import { startBridge, PUBLIC_URL } from '../support/bridge-harness.js';
import { startLoopbackProxy, type LoopbackProxy } from '../support/loopback-proxy.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { freePort } from '../support/run-script.js';
import { startServiceAccount, transportTo } from '../support/vertex-credentials.js';

/**
 * `npm run doctor` against the local fakes: every check, passing and failing. PUBLIC_URL is the https origin Twilio
 * would use; from here it is reached through a loopback proxy without TLS (`publicUrlFromHere`), which forwards to
 * the PORT the doctor listens on, or to another server, or does not pass WebSocket upgrades.
 */
const KEY = 'doctor-gemini-key';
const NUMBER = '+14155550100';
const DENTAL_NUMBER = '+14155550111';
const VOICE_URL = `${PUBLIC_URL}/voice`;

let gemini: FakeGeminiLive;
let rest: FakeTwilioRestApi;
let redis: RedisServer;
let postgres: PostgresServer;
let dir: string;
const proxies: LoopbackProxy[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  [gemini, rest, redis, postgres] = await Promise.all([
    startFakeGeminiLive({ apiKey: KEY, models: ['gemini-3.8-live', 'gemini-2.5-flash-native-audio-preview-12-2025'] }),
    startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN }),
    startRedisServer(),
    startPostgresServer(),
  ]);
  process.env.GOOGLE_GEMINI_BASE_URL = gemini.baseUrl; // the SDK reads it, as in production
  rest.addIncomingNumber({ phoneNumber: NUMBER, voiceUrl: VOICE_URL, voiceMethod: 'POST' });
  rest.addIncomingNumber({ phoneNumber: DENTAL_NUMBER, voiceUrl: VOICE_URL, voiceMethod: 'POST' });
  dir = mkdtempSync(join(tmpdir(), 'doctor-'));
}, 60_000);

afterAll(async () => {
  await Promise.all([gemini.close(), rest.close(), redis.close(), postgres.close()]);
  rmSync(dir, { recursive: true, force: true });
  process.env = savedEnv;
});

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

/** A data-only agent file: a default agent and one on 2.5 native audio with its features. */
function agentFile(agents: object[] = [
  { name: 'front-desk', instructions: 'You answer calls.' },
  { name: 'dental', instructions: 'You book cleanings.', model: 'gemini-2.5-flash-native-audio-preview-12-2025', affectiveDialog: true, thinking: { budget: 0 }, phoneNumbers: [DENTAL_NUMBER] },
]): string {
  const file = join(dir, `agents-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(agents));
  return file;
}

async function setUp(options: { env?: Record<string, string | undefined>; agents?: object[]; proxy?: 'relay' | 'noUpgrades'; proxyTo?: number } = {}) {
  const port = await freePort();
  const proxy = await startLoopbackProxy(options.proxyTo ?? port, options.proxy ?? 'relay');
  proxies.push(proxy);
  const env: Record<string, string | undefined> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    PUBLIC_URL,
    GEMINI_API_KEY: KEY,
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_API_BASE_URL: rest.baseUrl,
    TWILIO_PHONE_NUMBER: NUMBER,
    ...options.env,
  };
  const doctorOptions: DoctorOptions = { env, agentPath: agentFile(options.agents), publicUrlFromHere: proxy.url };
  return { env, port, proxy, doctorOptions };
}

const byName = (checks: readonly CheckResult[]) => Object.fromEntries(checks.map((check) => [check.name, check]));

describe('npm run doctor', () => {
  it('passes every check of a working setup: configuration, agents, Gemini per agent with its features, Twilio, PUBLIC_URL, tunnel, Redis, Postgres', async () => {
    const { doctorOptions } = await setUp({ env: { REDIS_URL: redis.url, DATABASE_URL: postgres.url, NGROK_AUTHTOKEN: 'token', NGROK_DOMAIN: new URL(PUBLIC_URL).host } });
    const before = gemini.sessions.length;
    const report = await runDoctor(doctorOptions);
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([
      ['configuration', 'pass'],
      ['agents', 'pass'],
      ['Gemini API key', 'pass'],
      ['Gemini Live for agent "front-desk"', 'pass'],
      ['Gemini Live for agent "dental"', 'pass'],
      ['Twilio credentials', 'pass'],
      [`voice webhook of ${NUMBER}`, 'pass'],
      [`voice webhook of ${DENTAL_NUMBER}`, 'pass'],
      ['Twilio error log (last 24 h)', 'pass'],
      ['PUBLIC_URL reaches this service', 'pass'],
      ['PUBLIC_URL passes WebSocket upgrades', 'pass'],
      ['tunnel (npm run dev)', 'pass'],
      ['Redis', 'pass'],
      ['Postgres', 'pass'],
    ]);
    expect(report.ok).toBe(true);
    const checks = byName(report.checks);
    expect(checks['Gemini Live for agent "dental"']!.detail).toMatch(
      /^model gemini-2\.5-flash-native-audio-preview-12-2025 \(API version v1alpha\) set up in \d+ ms with affective dialog on, thinking budget 0 and 1 tool; one short session, closed at once \(may cost a fraction of a cent\)$/,
    );
    // One session per agent, with the agent's exact setup, each closed by the doctor as soon as it was set up.
    const sessions = gemini.sessions.slice(before);
    expect(sessions).toHaveLength(2);
    expect(sessions[1]!.setup?.generationConfig).toMatchObject({ enableAffectiveDialog: true, thinkingConfig: { thinkingBudget: 0 } });
    await Promise.all(sessions.map((session) => session.closed));
    expect(sessions.every((session) => session.closeInfo?.initiatedBy === 'client' && session.receivedMessages.length === 1)).toBe(true);
  });

  it('says what to change for each failure, and exits non-zero: a refused key, a webhook elsewhere, Twilio errors, no WebSocket upgrades, Redis and Postgres down, a tunnel without a domain', async () => {
    rest.addIncomingNumber({ phoneNumber: '+14155550122' }); // a new number still points at Twilio's demo
    const deadPort = await freePort();
    const { env, doctorOptions } = await setUp({
      proxy: 'noUpgrades',
      env: { GEMINI_API_KEY: 'a-wrong-key', TWILIO_PHONE_NUMBER: '+14155550122', REDIS_URL: `redis://127.0.0.1:${deadPort}`, DATABASE_URL: `postgres://postgres@127.0.0.1:${deadPort}/x`, NGROK_AUTHTOKEN: 'token' },
    });
    rest.addAlert({ errorCode: 11200 });
    rest.addAlert({ errorCode: 11200 });
    rest.addAlert({ errorCode: 31920 });
    rest.addAlert({ errorCode: 31921, dateCreated: new Date(Date.now() - 30 * 3_600_000) }); // older than a day
    const lines: string[] = [];
    const code = await runDoctorCommand([doctorOptions.agentPath!], env, { out: (line) => lines.push(line), publicUrlFromHere: doctorOptions.publicUrlFromHere! });
    expect(code).toBe(1);
    const text = lines.join('\n');
    expect(text).toContain('✓ configuration: every setting valid');
    expect(text).toMatch(/✗ Gemini API key: .*\(code 1007\): API key not valid.*To fix: GEMINI_API_KEY is not a valid key: create one at https:\/\/aistudio\.google\.com\/apikey/);
    expect(text).toContain('– Gemini Live for agent "front-desk": Gemini refused the API key');
    expect(text).toContain(`✗ voice webhook of +14155550122: its voice URL is https://demo.twilio.com/welcome/voice/, not ${VOICE_URL}: run npm run configure-number`);
    expect(text).toMatch(/✗ Twilio error log \(last 24 h\): 11200 x2 \(last [^)]+\): Twilio could not fetch the voice webhook.*; 31920 x1 .*must pass WebSocket upgrades.*\(does not stop calls by itself\)$/m);
    expect(text).not.toContain('31921');
    expect(text).toContain('✓ PUBLIC_URL reaches this service');
    expect(text).toMatch(/✗ PUBLIC_URL passes WebSocket upgrades: ws:\/\/127\.0\.0\.1:\d+\/media answered HTTP 404 instead of switching to WebSocket: the proxy or tunnel in front must pass WebSocket upgrades/);
    expect(text).toMatch(/✗ tunnel \(npm run dev\): without NGROK_DOMAIN .*\(does not stop calls by itself\)/);
    expect(text).toMatch(/✗ Redis: Redis at 127\.0\.0\.1:\d+ cannot be used \(.*\): new calls would get the busy answer/);
    expect(text).toMatch(/✗ Postgres: Postgres at 127\.0\.0\.1:\d+ cannot be used/);
    expect(text).not.toContain('a-wrong-key');
    expect(lines.at(-1)).toBe('Something above would make calls fail: change what the ✗ lines say, then run the doctor again.');
  });

  it('tells a PUBLIC_URL that reaches another server, or nothing, from one that reaches this service', async () => {
    const other: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const elsewhere = await setUp({ proxyTo: (other.address() as { port: number }).port });
      const checks = byName((await runDoctor(elsewhere.doctorOptions)).checks);
      expect(checks['PUBLIC_URL reaches this service']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/answers \(HTTP 200\) but not from port \d+ of this machine: point the tunnel or proxy at this service's PORT/) });
      expect(checks['PUBLIC_URL passes WebSocket upgrades']?.status).toBe('fail');
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
    const nowhere = await setUp();
    const checks = byName((await runDoctor({ ...nowhere.doctorOptions, publicUrlFromHere: `http://127.0.0.1:${await freePort()}` })).checks);
    expect(checks['PUBLIC_URL reaches this service']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/does not answer \(ECONNREFUSED\): start the tunnel or proxy/) });
  });

  it('checks a running service through its PUBLIC_URL: health, and a stream upgrade signed as Twilio signs it', async () => {
    const bridge = await startBridge();
    try {
      const port = Number(new URL(bridge.app.localUrl).port);
      const running = await setUp({ proxyTo: port, env: { PORT: String(port) } });
      let checks = byName((await runDoctor(running.doctorOptions)).checks);
      expect(checks['PUBLIC_URL reaches this service']).toMatchObject({ status: 'pass', detail: expect.stringMatching(/answered like this service \(it is running\)/) });
      expect(checks['PUBLIC_URL passes WebSocket upgrades']).toMatchObject({ status: 'pass', detail: expect.stringMatching(/switched to WebSocket \(101\), signed as Twilio signs it/) });
      checks = byName((await runDoctor({ ...running.doctorOptions, env: { ...running.env, TWILIO_AUTH_TOKEN: 'f'.repeat(32) } })).checks);
      expect(checks['PUBLIC_URL passes WebSocket upgrades']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/refused a stream signed with TWILIO_AUTH_TOKEN/) });
    } finally {
      await bridge.stop();
      process.env.GOOGLE_GEMINI_BASE_URL = gemini.baseUrl; // the bridge pointed the SDK at its own fake
    }
  });

  it('refuses at the agents what a model does not offer, and names a model the key cannot use', async () => {
    const refused = await setUp({ agents: [{ name: 'moody', instructions: 'm', model: 'gemini-3.8-live', affectiveDialog: true }] });
    let checks = byName((await runDoctor(refused.doctorOptions)).checks);
    expect(checks['agents']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/agent "moody": model gemini-3\.8-live \(Gemini API\) does not offer affective dialog: remove affectiveDialog/) });
    expect(checks['Gemini']).toMatchObject({ status: 'skip' });
    const unknown = await setUp({ agents: [{ name: 'future', instructions: 'f', model: 'gemini-3.1-flash-live-preview' }] });
    checks = byName((await runDoctor(unknown.doctorOptions)).checks);
    expect(checks['Gemini API key']?.status).toBe('pass');
    expect(checks['Gemini Live for agent "future"']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/\(code 1008\).*To fix: model gemini-3\.1-flash-live-preview on Gemini API .* is not a Live model this key can use/) });
  });

  it('reports configuration problems all at once and checks nothing else; Twilio credentials refused; an account not active; no number to check', async () => {
    const bad = await setUp({ env: { PORT: 'eighty', PUBLIC_URL: 'http://example.test' } });
    const report = await runDoctor(bad.doctorOptions);
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([['configuration', 'fail'], ['everything else', 'skip']]);
    expect(report.checks[0]!.detail).toMatch(/PORT \(port\) .*; PUBLIC_URL \(publicUrl\) must start with https:\/\//);
    expect(report.ok).toBe(false);

    const wrongToken = await setUp({ env: { TWILIO_AUTH_TOKEN: 'e'.repeat(32) } });
    let checks = byName((await runDoctor(wrongToken.doctorOptions)).checks);
    expect(checks['Twilio credentials']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^Twilio refused the credentials/) });
    expect(checks['Twilio numbers and error log']?.status).toBe('skip');

    const suspended = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, accountStatus: 'suspended' });
    try {
      const setup = await setUp({ env: { TWILIO_API_BASE_URL: suspended.baseUrl, TWILIO_PHONE_NUMBER: undefined }, agents: [{ name: 'solo', instructions: 's' }] });
      checks = byName((await runDoctor(setup.doctorOptions)).checks);
      expect(checks['Twilio credentials']).toMatchObject({ status: 'fail', detail: 'account "My first Twilio account" is suspended: reactivate it in the Twilio console' });
    } finally {
      await suspended.close();
    }
    const noNumber = await setUp({ env: { TWILIO_PHONE_NUMBER: undefined }, agents: [{ name: 'solo', instructions: 's' }] });
    checks = byName((await runDoctor(noNumber.doctorOptions)).checks);
    expect(checks["number's voice webhook"]).toMatchObject({ status: 'skip' });
  });

  it('local mode and no Twilio: says what is off, fails nothing', async () => {
    const local = await setUp({ env: { GEMINI_API_KEY: undefined, PUBLIC_URL: undefined, TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined, TWILIO_PHONE_NUMBER: undefined } });
    const report = await runDoctor(local.doctorOptions);
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([
      ['configuration', 'pass'],
      ['agents', 'pass'],
      ['Gemini', 'skip'],
      ['Twilio and PUBLIC_URL', 'skip'],
    ]);
    expect(report.ok).toBe(true);
  });

  it('Vertex AI: the credentials through Application Default Credentials, passing and failing', async () => {
    const account = await startServiceAccount('doctor-project');
    const vertex = await startFakeGeminiLive({ accessToken: account.accessToken, models: ['gemini-live-2.5-flash-native-audio'] });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = account.keyFile;
    process.env.GOOGLE_VERTEX_BASE_URL = vertex.baseUrl;
    try {
      const env = { GEMINI_API_KEY: undefined, GOOGLE_GENAI_USE_VERTEXAI: 'true', GOOGLE_CLOUD_PROJECT: 'doctor-project', GOOGLE_CLOUD_LOCATION: 'us-central1', GEMINI_MODEL: 'gemini-live-2.5-flash-native-audio' };
      const agents = [{ name: 'vertex-agent', instructions: 'v', proactiveAudio: true }];
      const setup = await setUp({ env, agents });
      let checks = byName((await runDoctor({ ...setup.doctorOptions, googleAuthOptions: account.googleAuthOptions })).checks);
      expect(checks['Vertex AI credentials']).toMatchObject({ status: 'pass', detail: 'Vertex AI (project doctor-project, location us-central1): accepted' });
      expect(checks['Gemini Live for agent "vertex-agent"']).toMatchObject({ status: 'pass', detail: expect.stringMatching(/with proactive audio on and 1 tool/) });
      const noToken = { clientOptions: { transporter: transportTo(`${account.tokens.url}-missing`) } };
      checks = byName((await runDoctor({ ...setup.doctorOptions, googleAuthOptions: noToken })).checks);
      expect(checks['Vertex AI credentials']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/Application Default Credentials could not produce an access token for Vertex AI/) });
    } finally {
      delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      delete process.env.GOOGLE_VERTEX_BASE_URL;
      await vertex.close();
      await account.close();
    }
  });
});


describe('gemini-phone-agent doctor, the command', () => {
  it('prints one line per check and exits 0 when nothing would make calls fail, 1 when something would', async () => {
    const file = agentFile([{ name: 'solo', instructions: 's' }]);
    const ok = await runMain(['doctor', file], { PORT: '0' });
    expect(ok.code).toBe(0);
    expect(ok.stdout.split('\n').filter((line) => /^[✓✗–] /.test(line))).toEqual([
      '✓ configuration: every setting valid',
      `✓ agents: solo (local) from ${file}`,
      '– Gemini: no GEMINI_API_KEY (nor Vertex AI): calls talk to the local stand-in, not Gemini',
      '– Twilio and PUBLIC_URL: phone calls are off: set PUBLIC_URL (publicUrl), TWILIO_ACCOUNT_SID (twilio.accountSid), TWILIO_AUTH_TOKEN (twilio.authToken)',
    ]);
    const bad = await runMain(['doctor', file], { PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^✗ configuration: PORT/m);
  });
});

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** `gemini-phone-agent …` from source (tsx), in a scratch directory so no developer's .env is read, with exactly `env`. */
function runMain(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, MAIN, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
