import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MODEL, loadConfig, publicHttpsUrl, publicWssUrl } from '../../src/config.js';

const VALID = {
  PUBLIC_URL: 'https://abc123.ngrok.app',
  GEMINI_API_KEY: 'test-key',
  TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'token',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies defaults to a minimal valid environment', () => {
    const config = loadConfig(VALID);
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.gemini.model).toBe(DEFAULT_MODEL);
    expect(config.gemini.model).toBe('gemini-3.8-live');
    expect(config.gemini.apiVersion).toBeUndefined();
    expect(config.logLevel).toBe('info');
    expect(publicHttpsUrl(config, '/voice')).toBe('https://abc123.ngrok.app/voice');
    expect(publicWssUrl(config, '/media')).toBe('wss://abc123.ngrok.app/media');
  });

  it('runs in local mode with nothing set: no Gemini key, Twilio off, the browser phone on', () => {
    const config = loadConfig({});
    expect(config.localModel).toBe(true);
    expect(config.gemini.apiKey).toBe('');
    expect(config.telephony).toEqual({ enabled: false, missing: ['PUBLIC_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'] });
    expect(config.twilio.authToken).toBe(''); // verifies nothing: the Twilio routes are not mounted
    expect(config.publicUrl.hostname.endsWith('.invalid')).toBe(true);
    expect(config.browserPhone).toEqual({ enabled: true, accessKey: undefined });
  });

  it('turns Twilio on only with all three settings, and names the missing ones', () => {
    expect(loadConfig(VALID).telephony).toEqual({ enabled: true });
    const { TWILIO_AUTH_TOKEN: _, ...withoutToken } = VALID;
    expect(loadConfig(withoutToken).telephony).toEqual({ enabled: false, missing: ['TWILIO_AUTH_TOKEN'] });
    expect(loadConfig(VALID).localModel).toBe(false);
  });

  it('in production requires the Gemini key, something to serve and the agent, naming all at once', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/GEMINI_API_KEY .*required when NODE_ENV=production/);
    expect(problems[1]).toMatch(/Nothing to serve: set PUBLIC_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN .* or BROWSER_PHONE=1/);
    expect(problems[2]).toMatch(/AGENT is required when NODE_ENV=production/);
    expect(loadConfig({ ...VALID, NODE_ENV: 'production', AGENT: 'agent.ts' }).browserPhone.enabled).toBe(false);
    expect(loadConfig({ GEMINI_API_KEY: 'k', NODE_ENV: 'production', BROWSER_PHONE: '1', BROWSER_PHONE_KEY: 'k'.repeat(24), AGENT: 'agent.ts' }).telephony.enabled).toBe(false);
    expect(problemsOf({ ...VALID, NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^AGENT is required/)]);
    expect(loadConfig(VALID).agentPath).toBeUndefined(); // outside production the default agent runs
  });

  it('checks the browser phone settings, and values that are present but useless without Twilio', () => {
    const problems = problemsOf({ BROWSER_PHONE: 'yes', BROWSER_PHONE_KEY: 'short', OUTBOUND_API_KEY: 'k'.repeat(32), TWILIO_PHONE_NUMBER: '+14155550100', PUBLIC_URL: 'http://x.example' });
    const text = problems.join('\n');
    expect(text).toContain('BROWSER_PHONE must be 0 or 1');
    expect(text).toContain('BROWSER_PHONE_KEY must be at least 24 characters');
    expect(text).toContain('OUTBOUND_API_KEY needs Twilio: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN');
    expect(text).toContain('PUBLIC_URL must start with https://');
    expect(problems).toHaveLength(4);
    expect(loadConfig({ BROWSER_PHONE_KEY: 'a'.repeat(32) }).browserPhone.accessKey).toBe('a'.repeat(32));
    expect(loadConfig({ BROWSER_PHONE: '0', ...VALID }).browserPhone.enabled).toBe(false);
  });

  it('names every invalid variable in one error', () => {
    const problems = problemsOf({
      ...VALID,
      PORT: '99999',
      PUBLIC_URL: 'http://insecure.example.com',
      TWILIO_ACCOUNT_SID: 'ACnope',
      GEMINI_VOICE: 'Robot',
      LOG_LEVEL: 'chatty',
      GOOGLE_GEMINI_BASE_URL: 'not a url',
    });
    const text = problems.join('\n');
    for (const name of ['PORT', 'PUBLIC_URL', 'TWILIO_ACCOUNT_SID', 'GEMINI_VOICE', 'LOG_LEVEL', 'GOOGLE_GEMINI_BASE_URL']) {
      expect(text).toContain(name);
    }
    expect(problems).toHaveLength(6);
  });

  it('accepts GOOGLE_API_KEY in place of GEMINI_API_KEY, and refuses the two set to different keys', () => {
    const { GEMINI_API_KEY: _, ...rest } = VALID;
    expect(loadConfig({ ...rest, GOOGLE_API_KEY: 'google-key' }).gemini.apiKey).toBe('google-key');
    // The SDK would silently prefer GOOGLE_API_KEY: which account pays must not be a guess.
    expect(() => loadConfig({ ...VALID, GOOGLE_API_KEY: 'google-key' })).toThrow(/GEMINI_API_KEY and GOOGLE_API_KEY/);
  });

  it('refuses a PUBLIC_URL with a path, since Twilio signs the exact URL', () => {
    expect(problemsOf({ ...VALID, PUBLIC_URL: 'https://example.com/agent' }).join()).toMatch(/PUBLIC_URL must be an origin/);
    expect(loadConfig({ ...VALID, PUBLIC_URL: 'https://example.com/' }).publicUrl.host).toBe('example.com');
  });

  it('refuses the retired agent settings, pointing to the agent that now holds them', () => {
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

  it('defaults the tools, agent, data and Twilio REST settings', () => {
    const config = loadConfig(VALID);
    expect(config.tools).toEqual({ timeoutMs: 5_000, transferNumber: undefined, webhookSecret: undefined });
    expect(config.agentPath).toBeUndefined();
    expect(config.dataDir).toBe('./data');
    expect(config.logTranscripts).toBe(false);
    expect(config.recording).toEqual({ enabled: false, dir: join('./data', 'recordings') });
    expect(config.twilio.apiBaseUrl).toBeUndefined();
  });

  it('reads the tools, agent, data and Twilio REST settings', () => {
    const config = loadConfig({
      ...VALID,
      TOOL_TIMEOUT_MS: '8000',
      TRANSFER_NUMBER: '+14155550199',
      TOOL_WEBHOOK_SECRET: 's'.repeat(24),
      AGENT: './agents/dental.ts',
      DATA_DIR: '/var/lib/agent',
      LOG_TRANSCRIPTS: '1',
      RECORD_CALLS: '1',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:4010',
    });
    expect(config.tools).toEqual({ timeoutMs: 8_000, transferNumber: '+14155550199', webhookSecret: 's'.repeat(24) });
    expect(config.agentPath).toBe('./agents/dental.ts');
    expect(config.dataDir).toBe('/var/lib/agent');
    expect(config.logTranscripts).toBe(true);
    expect(config.recording).toEqual({ enabled: true, dir: join('/var/lib/agent', 'recordings') });
    expect(config.twilio.apiBaseUrl).toBe('http://127.0.0.1:4010');
  });

  it('names every invalid tools, transcript and Twilio REST setting in one error', () => {
    const problems = problemsOf({
      ...VALID,
      TOOL_TIMEOUT_MS: '5s',
      TRANSFER_NUMBER: '(415) 555-0199',
      TOOL_WEBHOOK_SECRET: 's'.repeat(23),
      LOG_TRANSCRIPTS: 'yes',
      TWILIO_API_BASE_URL: 'api.twilio.com',
    });
    expect(problems).toHaveLength(5);
    for (const name of ['TOOL_TIMEOUT_MS', 'TRANSFER_NUMBER must be an E.164', 'TOOL_WEBHOOK_SECRET must be at least 24 characters', 'LOG_TRANSCRIPTS must be 0 or 1', 'TWILIO_API_BASE_URL']) {
      expect(problems.join('\n')).toContain(name);
    }
  });

  it('passes optional model settings through', () => {
    const config = loadConfig({ ...VALID, GEMINI_MODEL: 'gemini-3.1-flash-live-preview', GEMINI_API_VERSION: 'v1beta', PORT: '0' });
    expect(config.gemini).toMatchObject({ model: 'gemini-3.1-flash-live-preview', apiVersion: 'v1beta' });
    expect(config.port).toBe(0);
  });
});

describe('.env.example', () => {
  it('starts as it is, copied to .env: local mode with the browser phone, no placeholder taken for real', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseEnv } = await import('node:util');
    const example = parseEnv(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'));
    const config = loadConfig(example);
    expect(config.localModel).toBe(true);
    expect(config.browserPhone.enabled).toBe(true);
    expect(config.telephony.enabled).toBe(false);
  });

  it('refuses the placeholder PUBLIC_URL instead of taking it silently', () => {
    for (const placeholder of ['https://your-subdomain.ngrok.app', 'https://your-name.ngrok-free.app']) {
      expect(() => loadConfig({ PUBLIC_URL: placeholder })).toThrow(/PUBLIC_URL is still a placeholder/);
    }
  });

  it('in production, the browser phone needs its key set: a random one would be printed where logs are kept', () => {
    const env = { ...VALID, NODE_ENV: 'production', AGENT: 'agent.ts', BROWSER_PHONE: '1' };
    expect(problemsOf(env)).toEqual([expect.stringMatching(/^BROWSER_PHONE_KEY is required when NODE_ENV=production and BROWSER_PHONE=1/)]);
    expect(loadConfig({ ...env, BROWSER_PHONE_KEY: 'k'.repeat(24) }).browserPhone).toEqual({ enabled: true, accessKey: 'k'.repeat(24) });
    expect(loadConfig({ ...VALID, BROWSER_PHONE: '1' }).browserPhone.accessKey).toBeUndefined(); // outside production: random per start
  });

  it('connection limits: safe defaults that follow MAX_CONCURRENT_CALLS, each settable, a request no shorter than its headers', () => {
    expect(loadConfig(VALID).connections).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 300, maxConnectionsPerSource: 120 });
    expect(loadConfig({ ...VALID, MAX_CONCURRENT_CALLS: '10' }).connections).toMatchObject({ maxConnections: 120, maxConnectionsPerSource: 30 });
    const set = { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000', MAX_CONNECTIONS: '50', MAX_CONNECTIONS_PER_SOURCE: '5' };
    expect(loadConfig({ ...VALID, ...set }).connections).toEqual({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000, maxConnections: 50, maxConnectionsPerSource: 5 });
    expect(problemsOf({ ...VALID, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '2000', MAX_CONNECTIONS: '0' })).toEqual([
      'MAX_CONNECTIONS must be an integer from 1 to 1000000',
      'HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS (the request includes its headers)',
    ]);
  });
});
