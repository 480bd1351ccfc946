import { describe, expect, it } from 'vitest';
import type { PhoneAgentSettings } from '../../../src/settings/phone-agent-settings.js';
import { loadConfig, resolveConfig } from '../../../src/settings/resolve-config.js';
import { SETTING_PATHS, SETTINGS } from '../../../src/settings/setting-table.js';
import { problemsOf } from './problems.js';

/** Typed settings from code (`startPhoneAgent({ agents, ...settings })`), checked by the same step as the environment. */

const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
const TWILIO: PhoneAgentSettings = { publicUrl: 'https://abc123.ngrok.app', gemini: { apiKey: 'test-key' }, twilio: { accountSid: ACCOUNT_SID, authToken: 'token' } };
/** The same, as the environment says it. */
const TWILIO_ENV = { PUBLIC_URL: 'https://abc123.ngrok.app', GEMINI_API_KEY: 'test-key', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'token' };

/** A value that breaks a setting's type, as JavaScript (or a spread of untyped data) can pass it. */
const untyped = <T>(value: unknown): T => value as T;

describe('settings from code', () => {
  it('configure the service without the environment', () => {
    const config = resolveConfig({
      settings: {
        ...TWILIO,
        port: 0,
        host: '127.0.0.1',
        production: true,
        gemini: { apiKey: 'test-key', model: 'gemini-3.1-flash-live-preview', setupTimeoutMs: 2_000 },
        limits: { maxConcurrentCalls: 5, silenceTimeoutMs: 8_000 },
        stores: { dataDir: '/srv/agent' },
        fleet: { instanceId: 'agent-1' },
        recording: { enabled: true, retentionDays: 7, twilio: true },
        logging: { level: 'debug', transcripts: true },
        browserPhone: { enabled: true, key: 'b'.repeat(32) },
        metrics: { apiKey: 'm'.repeat(32) },
        tools: { timeoutMs: 3_000, webhookSecret: 's'.repeat(24), transferNumber: '+14155550199', transferMode: 'warm' },
        outbound: { apiKey: 'o'.repeat(24), callsPerMinute: 3, machineDetection: false },
        twilio: { accountSid: ACCOUNT_SID, authToken: 'token', phoneNumber: '+14155550100', apiBaseUrl: 'http://127.0.0.1:4010' },
      },
    });
    expect(config).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      production: true,
      localModel: false,
      telephony: { enabled: true },
      gemini: { auth: { kind: 'api-key', apiKey: 'test-key' }, model: 'gemini-3.1-flash-live-preview', setupTimeoutMs: 2_000 },
      limits: { maxConcurrentCalls: 5, silenceTimeoutMs: 8_000, stallTimeoutMs: 6_000 },
      stores: { dataDir: '/srv/agent' },
      fleet: { instanceId: 'agent-1' },
      recording: { enabled: true, dir: '/srv/agent/recordings', retentionDays: 7, twilio: true },
      logging: { level: 'debug', transcripts: true },
      browserPhone: { enabled: true, key: 'b'.repeat(32) },
      metrics: { apiKey: 'm'.repeat(32) },
      tools: { timeoutMs: 3_000, webhookSecret: 's'.repeat(24), transferNumber: '+14155550199', transferMode: 'warm' },
      outbound: { apiKey: 'o'.repeat(24), callsPerMinute: 3, machineDetection: false },
      twilio: { phoneNumber: '+14155550100', apiBaseUrl: 'http://127.0.0.1:4010' },
    });
    expect(config.publicUrl.origin).toBe('https://abc123.ngrok.app');
  });

  it('get the same message as the environment for the same bad value, naming the option and its variable', () => {
    const cases: Array<[PhoneAgentSettings, Record<string, string>]> = [
      [{ port: 70_000 }, { PORT: '70000' }],
      [{ limits: { maxConcurrentCalls: 0 } }, { MAX_CONCURRENT_CALLS: '0' }],
      [{ publicUrl: 'http://insecure.example.com' }, { PUBLIC_URL: 'http://insecure.example.com' }],
      [{ logging: { level: untyped('chatty') } }, { LOG_LEVEL: 'chatty' }],
      [{ tools: { transferNumber: '(415) 555-0199' } }, { TRANSFER_NUMBER: '(415) 555-0199' }],
      [{ outbound: { apiKey: 'short' } }, { OUTBOUND_API_KEY: 'short' }],
      [{ tools: { transferMode: untyped('hot') } }, { TRANSFER_MODE: 'hot' }],
      [{ fleet: { instanceId: 'no spaces allowed' } }, { INSTANCE_ID: 'no spaces allowed' }],
    ];
    for (const [settings, env] of cases) {
      const fromCode = problemsOf({ settings: { ...TWILIO, ...settings } });
      expect(fromCode.length).toBeGreaterThan(0);
      expect(fromCode).toEqual(problemsOf({ env: { ...TWILIO_ENV, ...env } }));
    }
    expect(problemsOf({ settings: { ...TWILIO, limits: { maxConcurrentCalls: 0 } } })).toEqual(['MAX_CONCURRENT_CALLS (limits.maxConcurrentCalls) must be an integer from 1 to 100000 (got 0)']);
  });

  it('refuse a value of the wrong type, as JavaScript can pass it, with the rule it breaks', () => {
    expect(problemsOf({ settings: { ...TWILIO, port: untyped('8080'), recording: { enabled: untyped('yes') }, limits: { drainTimeoutMs: 1.5 } } })).toEqual([
      'PORT (port) must be an integer from 0 to 65535 (got "8080")',
      'DRAIN_TIMEOUT_MS (limits.drainTimeoutMs) must be an integer from 0 to 86400000 (got 1.5)',
      'RECORD_CALLS (recording.enabled) must be 1 or 0, or true or false in code (got "yes")',
    ]);
  });

  it('win over the environment setting by setting, and leave the rest to it', () => {
    const config = resolveConfig({ settings: { ...TWILIO, port: 3_000, limits: { maxConcurrentCalls: 7 } }, env: { PORT: 'not a port', MAX_CONCURRENT_CALLS: '9', DRAIN_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn' } });
    expect(config.port).toBe(3_000); // the environment's bad value is overridden, so not a problem
    expect(config.limits).toMatchObject({ maxConcurrentCalls: 7, drainTimeoutMs: 1_000 });
    expect(config.logging.level).toBe('warn');
    // And the environment's own problems still count where code leaves the setting to it.
    expect(problemsOf({ settings: TWILIO, env: { PORT: 'not a port' } })).toEqual(['PORT (port) must be an integer from 0 to 65535 (got "not a port")']);
  });

  it('name a key that is no setting, and a group that is no object, instead of ignoring them', () => {
    expect(problemsOf({ settings: { ...TWILIO, limits: untyped({ maxConcurentCalls: 3 }), fleet: untyped(5), ...untyped<PhoneAgentSettings>({ voice: 'Puck' }) } })).toEqual([
      'limits.maxConcurentCalls is not a setting (docs/configuration.md lists them all)',
      'fleet must be an object of settings (got 5)',
      'voice is not a setting (docs/configuration.md lists them all)',
    ]);
    expect(problemsOf({ settings: { ...TWILIO, limits: undefined, gemini: { apiKey: 'k', model: undefined } } })).toEqual([]);
  });

  it('choose Vertex AI with its project and location, with the checks the environment gets', () => {
    const vertexAI = { project: 'my-project-123', location: 'us-central1' };
    expect(resolveConfig({ settings: { gemini: { vertexAI, model: 'gemini-live-2.5-flash' } } }).gemini.auth).toEqual({ kind: 'vertex', ...vertexAI });
    expect(problemsOf({ settings: { gemini: { vertexAI: untyped({ project: 'P' }), apiKey: 'k' } } })).toEqual([
      expect.stringMatching(/^GOOGLE_CLOUD_PROJECT \(gemini\.vertexAI\.project\) must be a project id/),
      expect.stringMatching(/^GOOGLE_CLOUD_LOCATION \(gemini\.vertexAI\.location\) is required with Vertex AI/),
      expect.stringMatching(/^GEMINI_API_KEY \(gemini\.apiKey\) is set, but Vertex AI .* would ignore it/),
      expect.stringMatching(/^GEMINI_MODEL \(gemini\.model\) is required with Vertex AI/),
    ]);
    // The same Vertex AI chosen in the environment is told the same way.
    expect(problemsOf({ env: { GOOGLE_GENAI_USE_VERTEXAI: 'true', GOOGLE_CLOUD_PROJECT: 'P', GEMINI_API_KEY: 'k' } })).toEqual(problemsOf({ settings: { gemini: { vertexAI: untyped({ project: 'P' }), apiKey: 'k' } } }));
  });

  it('take production from code too: a credential required, the browser phone off unless turned on', () => {
    expect(problemsOf({ settings: { production: true } })[0]).toMatch(/^A Gemini credential is required in production/);
    expect(resolveConfig({ settings: { ...TWILIO, production: true } }).browserPhone.enabled).toBe(false);
    expect(resolveConfig({ settings: { ...TWILIO, production: true, browserPhone: { enabled: true, key: 'k'.repeat(24) } } }).browserPhone.enabled).toBe(true);
    expect(problemsOf({ settings: { ...TWILIO, production: true, browserPhone: { enabled: true } } })).toEqual([expect.stringMatching(/^BROWSER_PHONE_KEY \(browserPhone\.key\) is required in production/)]);
  });

  it('are the same settings the environment has: one variable for each option path, and one path for each variable', () => {
    const variables = SETTING_PATHS.map((path) => SETTINGS[path].env);
    expect(new Set(variables).size).toBe(variables.length);
    expect(loadConfig({}).port).toBe(resolveConfig({}).port);
  });
});
