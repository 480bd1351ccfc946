import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { publicHttpsUrl, publicWssUrl } from '../../../src/settings/config.js';
import { loadConfig } from '../../../src/settings/resolve-config.js';
import { DEFAULT_MODEL } from '../../../src/settings/setting-table.js';
import { problemsOf as problemsIn } from './problems.js';

/** The settings from the environment: the command line, containers and `.env`. */

const VALID = {
  PUBLIC_URL: 'https://abc123.ngrok.app',
  GEMINI_API_KEY: 'test-key',
  TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'token',
};
const KEY = 'k'.repeat(24);

const problemsOf = (env: Record<string, string>): string[] => problemsIn({ env });

describe('settings from the environment', () => {
  it('apply the defaults to a minimal valid environment', () => {
    const config = loadConfig(VALID);
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', production: false, localModel: false, telephony: { enabled: true } });
    expect(config.gemini).toEqual({ auth: { kind: 'api-key', apiKey: 'test-key' }, model: DEFAULT_MODEL, apiVersion: undefined, setupTimeoutMs: 10_000, baseUrl: undefined });
    expect(DEFAULT_MODEL).toBe('gemini-3.8-live');
    expect(config.limits).toEqual({ maxConcurrentCalls: 100, drainTimeoutMs: 600_000, stallTimeoutMs: 6_000, silenceTimeoutMs: 20_000, maxCallDurationMs: 3_600_000 });
    expect(config.logging).toEqual({ level: 'info', transcripts: false });
    expect(config.tools).toEqual({ timeoutMs: 5_000, transferNumber: undefined, transferMode: 'cold', webhookSecret: undefined });
    expect(config.stores).toEqual({ redisUrl: undefined, dataDir: './data' });
    expect(config.recording).toEqual({ enabled: false, dir: join('./data', 'recordings'), retentionDays: undefined, twilio: false });
    expect(config.outbound).toEqual({ apiKey: undefined, callsPerMinute: 10, machineDetection: true });
    expect(config.twilio).toEqual({ accountSid: VALID.TWILIO_ACCOUNT_SID, authToken: 'token', phoneNumber: undefined, apiBaseUrl: undefined });
    expect(publicHttpsUrl(config, '/voice')).toBe('https://abc123.ngrok.app/voice');
    expect(publicWssUrl(config, '/media')).toBe('wss://abc123.ngrok.app/media');
  });

  it('run in local mode with nothing set: no Gemini credential, Twilio off, the browser phone on', () => {
    const config = loadConfig({});
    expect(config.localModel).toBe(true);
    expect(config.gemini.auth).toBeUndefined();
    expect(config.telephony).toEqual({ enabled: false, missing: ['publicUrl', 'twilio.accountSid', 'twilio.authToken'] });
    expect(config.twilio.authToken).toBe(''); // verifies nothing: the Twilio routes are not mounted
    expect(config.publicUrl.hostname.endsWith('.invalid')).toBe(true);
    expect(config.browserPhone).toEqual({ enabled: true, key: undefined });
  });

  it('turn Twilio on only with all three settings, and name the missing ones', () => {
    const { TWILIO_AUTH_TOKEN: _, ...withoutToken } = VALID;
    expect(loadConfig(withoutToken).telephony).toEqual({ enabled: false, missing: ['twilio.authToken'] });
    expect(loadConfig(withoutToken).twilio.accountSid).toBe('');
  });

  it('in production require a Gemini credential and something to serve, naming both at once', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^A Gemini credential is required in production \(NODE_ENV=production, or production: true\): GEMINI_API_KEY \(gemini\.apiKey\)/);
    expect(problems[1]).toMatch(/^Nothing to serve: set PUBLIC_URL \(publicUrl\), TWILIO_ACCOUNT_SID \(twilio\.accountSid\), TWILIO_AUTH_TOKEN \(twilio\.authToken\) .* or BROWSER_PHONE=1/);
    expect(loadConfig({ ...VALID, NODE_ENV: 'production' })).toMatchObject({ production: true, browserPhone: { enabled: false } });
    expect(loadConfig({ GEMINI_API_KEY: 'k', NODE_ENV: 'production', BROWSER_PHONE: '1', BROWSER_PHONE_KEY: 'k'.repeat(24) }).telephony.enabled).toBe(false);
    expect(loadConfig({ ...VALID, NODE_ENV: 'development' }).production).toBe(false);
  });

  it('check the browser phone settings, and values that are present but useless without Twilio', () => {
    const problems = problemsOf({ BROWSER_PHONE: 'yes', BROWSER_PHONE_KEY: 'short', OUTBOUND_API_KEY: 'k'.repeat(32), TWILIO_PHONE_NUMBER: '+14155550100', PUBLIC_URL: 'http://x.example' });
    const text = problems.join('\n');
    expect(text).toContain('BROWSER_PHONE (browserPhone.enabled) must be 1 or 0, or true or false in code (got "yes")');
    expect(text).toContain('BROWSER_PHONE_KEY (browserPhone.key) must be at least 24 characters');
    expect(text).toContain('OUTBOUND_API_KEY (outbound.apiKey) needs Twilio: set TWILIO_ACCOUNT_SID (twilio.accountSid), TWILIO_AUTH_TOKEN (twilio.authToken)');
    expect(text).toContain('PUBLIC_URL (publicUrl) must start with https://');
    expect(problems).toHaveLength(4);
    expect(text).not.toContain('short'); // a secret is never repeated
    expect(loadConfig({ BROWSER_PHONE_KEY: 'a'.repeat(32) }).browserPhone.key).toBe('a'.repeat(32));
    expect(loadConfig({ BROWSER_PHONE: '0', ...VALID }).browserPhone.enabled).toBe(false);
  });

  it('name every invalid variable in one error, with its option path', () => {
    const problems = problemsOf({
      ...VALID,
      PORT: '99999',
      PUBLIC_URL: 'http://insecure.example.com',
      TWILIO_ACCOUNT_SID: 'ACnope',
      GEMINI_VOICE: 'Robot',
      LOG_LEVEL: 'chatty',
      GOOGLE_GEMINI_BASE_URL: 'not a url',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^GEMINI_VOICE is no longer read/),
      'PORT (port) must be an integer from 0 to 65535 (got 99999)',
      'PUBLIC_URL (publicUrl) must start with https://, since Twilio only streams to wss:// (got "http://insecure.example.com")',
      'GOOGLE_GEMINI_BASE_URL (gemini.baseUrl) must be an http(s) URL (got "not a url")',
      'TWILIO_ACCOUNT_SID (twilio.accountSid) must be AC followed by 32 hex digits (got "ACnope")',
      'LOG_LEVEL (logging.level) must be one of fatal, error, warn, info, debug, trace, silent (got "chatty")',
    ]);
  });

  it('accept GOOGLE_API_KEY in place of GEMINI_API_KEY, and refuse the two set to different keys', () => {
    const { GEMINI_API_KEY: _, ...rest } = VALID;
    expect(loadConfig({ ...rest, GOOGLE_API_KEY: 'google-key' }).gemini.auth).toEqual({ kind: 'api-key', apiKey: 'google-key' });
    // The SDK would silently prefer GOOGLE_API_KEY: which account pays must not be a guess.
    expect(problemsOf({ ...VALID, GOOGLE_API_KEY: 'google-key' })).toEqual(['GEMINI_API_KEY and GOOGLE_API_KEY are both set, to different keys: set only one']);
  });

  it('read Vertex AI from the SDK variables only when it is selected', () => {
    const vertex = { GOOGLE_GENAI_USE_VERTEXAI: 'true', GOOGLE_CLOUD_PROJECT: 'my-project-123', GOOGLE_CLOUD_LOCATION: 'us-central1', GEMINI_MODEL: 'gemini-live-2.5-flash' };
    expect(loadConfig({ ...vertex, GOOGLE_VERTEX_BASE_URL: 'http://127.0.0.1:9' }).gemini).toMatchObject({
      auth: { kind: 'vertex', project: 'my-project-123', location: 'us-central1' },
      baseUrl: 'http://127.0.0.1:9',
    });
    // The SDK's newer name selects it as well; the two names set apart from each other are a problem.
    const { GOOGLE_GENAI_USE_VERTEXAI: _, ...unselected } = vertex;
    expect(loadConfig({ ...unselected, GOOGLE_GENAI_USE_ENTERPRISE: '1' }).gemini.auth?.kind).toBe('vertex');
    expect(problemsOf({ ...vertex, GOOGLE_GENAI_USE_ENTERPRISE: 'false' })).toEqual(['GOOGLE_GENAI_USE_VERTEXAI and GOOGLE_GENAI_USE_ENTERPRISE disagree: set only one of them']);
    // A Google Cloud machine sets GOOGLE_CLOUD_PROJECT for other reasons: without the switch it is not read.
    expect(loadConfig({ GOOGLE_CLOUD_PROJECT: 'Not A Project!' }).gemini.auth).toBeUndefined();
    expect(problemsOf({ GOOGLE_GENAI_USE_VERTEXAI: 'yes' })).toEqual(['GOOGLE_GENAI_USE_VERTEXAI must be true, false, 1 or 0 (got "yes")']);
    expect(problemsOf({ ...vertex, GEMINI_API_VERSION: 'v1beta' })).toEqual(['GEMINI_API_VERSION (gemini.apiVersion) must be one of v1, v1beta1 for Vertex AI (got "v1beta")']);
    expect(problemsOf({ GEMINI_API_KEY: 'k', GEMINI_API_VERSION: 'v1beta1' })).toEqual(['GEMINI_API_VERSION (gemini.apiVersion) must be one of v1, v1beta, v1alpha for the Gemini Developer API (got "v1beta1")']);
  });

  it('refuse a PUBLIC_URL with a path, since Twilio signs the exact URL', () => {
    expect(problemsOf({ ...VALID, PUBLIC_URL: 'https://example.com/agent' })).toEqual([
      'PUBLIC_URL (publicUrl) must be an origin such as https://abc123.ngrok.app, without a path or query (got "https://example.com/agent")',
    ]);
    expect(loadConfig({ ...VALID, PUBLIC_URL: 'https://example.com/' }).publicUrl.host).toBe('example.com');
  });

  it('refuse the retired agent settings, pointing to the agent that now holds them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const file = join(dir, 'prompt.txt');
    writeFileSync(file, 'You answer for the Blue Door restaurant.\n');
    for (const [name, value] of [['GEMINI_VOICE', 'Puck'], ['AGENT_INSTRUCTIONS', 'x'], ['AGENT_INSTRUCTIONS_FILE', file]] as const) {
      const problems = problemsOf({ ...VALID, [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name} is no longer read: the agent sets its voice and instructions .*defineAgent.*AGENT`));
    }
    expect(problemsOf({ ...VALID, GEMINI_VOICE: 'Puck', AGENT_INSTRUCTIONS: 'x', AGENT_INSTRUCTIONS_FILE: file })).toHaveLength(3);
  });

  it('read the tools, data, recording, logging, model and Twilio REST settings', () => {
    const config = loadConfig({
      ...VALID,
      TOOL_TIMEOUT_MS: '8000',
      TRANSFER_NUMBER: '+14155550199',
      TOOL_WEBHOOK_SECRET: 's'.repeat(24),
      DATA_DIR: '/var/lib/agent',
      LOG_TRANSCRIPTS: '1',
      RECORD_CALLS: '1',
      RECORDINGS_RETENTION_DAYS: '30',
      TWILIO_RECORDING: '1',
      TRANSFER_MODE: 'warm',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:4010',
      GEMINI_MODEL: 'gemini-3.1-flash-live-preview',
      GEMINI_API_VERSION: 'v1beta',
      PORT: '0',
    });
    expect(config.tools).toEqual({ timeoutMs: 8_000, transferNumber: '+14155550199', transferMode: 'warm', webhookSecret: 's'.repeat(24) });
    expect(config.stores.dataDir).toBe('/var/lib/agent');
    expect(config.logging.transcripts).toBe(true);
    expect(config.recording).toEqual({ enabled: true, dir: join('/var/lib/agent', 'recordings'), retentionDays: 30, twilio: true });
    expect(config.twilio.apiBaseUrl).toBe('http://127.0.0.1:4010');
    expect(config.gemini).toMatchObject({ model: 'gemini-3.1-flash-live-preview', apiVersion: 'v1beta' });
    expect(config.port).toBe(0);
  });

  it('name every invalid tools, transcript, recording and Twilio REST setting in one error', () => {
    const problems = problemsOf({
      ...VALID,
      TOOL_TIMEOUT_MS: '5s',
      TRANSFER_NUMBER: '(415) 555-0199',
      TOOL_WEBHOOK_SECRET: 's'.repeat(23),
      LOG_TRANSCRIPTS: 'yes',
      RECORD_CALLS: 'true',
      RECORDINGS_RETENTION_DAYS: '1.5',
      TWILIO_API_BASE_URL: 'api.twilio.com',
      TRANSFER_MODE: 'hot',
      TWILIO_RECORDING: 'on',
    });
    expect(problems).toHaveLength(9);
    for (const expected of [
      'TOOL_TIMEOUT_MS (tools.timeoutMs) must be an integer from 100 to 60000 (got "5s")',
      'TRANSFER_NUMBER (tools.transferNumber) must be an E.164 phone number',
      'TOOL_WEBHOOK_SECRET (tools.webhookSecret) must be at least 24 characters',
      'LOG_TRANSCRIPTS (logging.transcripts) must be 1 or 0',
      'RECORD_CALLS (recording.enabled) must be 1 or 0, or true or false in code (got "true")',
      'RECORDINGS_RETENTION_DAYS (recording.retentionDays) must be a whole number of days from 1 to 36500 (got "1.5")',
      'TWILIO_API_BASE_URL (twilio.apiBaseUrl) must be an http(s) URL',
      'TRANSFER_MODE (tools.transferMode) must be one of cold, warm (got "hot")',
      'TWILIO_RECORDING (recording.twilio) must be 1 or 0, or true or false in code (got "on")',
    ]) {
      expect(problems.join('\n')).toContain(expected);
    }
  });

  it('read the outbound-call settings, and name every problem with them at once', () => {
    expect(loadConfig({ ...VALID, TWILIO_PHONE_NUMBER: '+14155550100', OUTBOUND_API_KEY: KEY, OUTBOUND_CALLS_PER_MINUTE: '30', OUTBOUND_MACHINE_DETECTION: '0' }).outbound).toEqual({ apiKey: KEY, callsPerMinute: 30, machineDetection: false });
    const problems = problemsOf({ ...VALID, TWILIO_PHONE_NUMBER: '(415) 555-0100', OUTBOUND_API_KEY: 'short', OUTBOUND_CALLS_PER_MINUTE: '0', OUTBOUND_MACHINE_DETECTION: 'yes' });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/TWILIO_PHONE_NUMBER \(twilio\.phoneNumber\) must be .*E\.164/);
    expect(problems.join('\n')).toMatch(/OUTBOUND_API_KEY \(outbound\.apiKey\) must be at least 24 characters/);
    expect(problems.join('\n')).toMatch(/OUTBOUND_CALLS_PER_MINUTE \(outbound\.callsPerMinute\) must be an integer from 1 to 600/);
    expect(problems.join('\n')).toContain('OUTBOUND_MACHINE_DETECTION (outbound.machineDetection) must be 1 or 0, or true or false in code (got "yes")');
    expect(problemsOf({ ...VALID, OUTBOUND_API_KEY: KEY })).toEqual([expect.stringMatching(/^OUTBOUND_API_KEY \(outbound\.apiKey\) needs TWILIO_PHONE_NUMBER/)]);
    expect(problemsOf({ ...VALID, TWILIO_PHONE_NUMBER: '+14155550100', OUTBOUND_API_KEY: `${'k'.repeat(20)} with space` })).toHaveLength(1);
  });

  it('in production, want the browser phone key set: a random one would be printed where logs are kept', () => {
    const env = { ...VALID, NODE_ENV: 'production', BROWSER_PHONE: '1' };
    expect(problemsOf(env)).toEqual([expect.stringMatching(/^BROWSER_PHONE_KEY \(browserPhone\.key\) is required in production with the browser phone on/)]);
    expect(loadConfig({ ...env, BROWSER_PHONE_KEY: 'k'.repeat(24) }).browserPhone).toEqual({ enabled: true, key: 'k'.repeat(24) });
    expect(loadConfig({ ...VALID, BROWSER_PHONE: '1' }).browserPhone.key).toBeUndefined(); // outside production: random per start
  });

  it('set connection limits: safe defaults that follow MAX_CONCURRENT_CALLS, each settable, a request no shorter than its headers', () => {
    expect(loadConfig(VALID).connections).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 300, maxConnectionsPerSource: 120 });
    expect(loadConfig({ ...VALID, MAX_CONCURRENT_CALLS: '10' }).connections).toMatchObject({ maxConnections: 120, maxConnectionsPerSource: 30 });
    const set = { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000', MAX_CONNECTIONS: '50', MAX_CONNECTIONS_PER_SOURCE: '5' };
    expect(loadConfig({ ...VALID, ...set }).connections).toEqual({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000, maxConnections: 50, maxConnectionsPerSource: 5 });
    expect(problemsOf({ ...VALID, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '2000', MAX_CONNECTIONS: '0' })).toEqual([
      'MAX_CONNECTIONS (connections.maxConnections) must be an integer from 1 to 1000000 (got 0)',
      'HTTP_REQUEST_TIMEOUT_MS (connections.requestTimeoutMs) must be at least HTTP_HEADERS_TIMEOUT_MS (connections.headersTimeoutMs): the request includes its headers',
    ]);
  });

  it('take an empty variable as unset, and trim the others', () => {
    expect(loadConfig({ ...VALID, PORT: '', LOG_LEVEL: '  debug ' })).toMatchObject({ port: 8080, logging: { level: 'debug' } });
  });
});

describe('.env.example', () => {
  it('starts as it is, copied to .env: local mode with the browser phone, no placeholder taken for real', () => {
    const example = parseEnv(readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8'));
    const config = loadConfig(example);
    expect(config.localModel).toBe(true);
    expect(config.browserPhone.enabled).toBe(true);
    expect(config.telephony.enabled).toBe(false);
  });

  it('refuses the placeholder PUBLIC_URL instead of taking it silently', () => {
    for (const placeholder of ['https://your-subdomain.ngrok.app', 'https://your-name.ngrok-free.app']) {
      expect(() => loadConfig({ PUBLIC_URL: placeholder })).toThrow(/PUBLIC_URL \(publicUrl\) is still a placeholder/);
    }
  });
});
