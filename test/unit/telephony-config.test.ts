import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadTwilioCommandConfig } from '../../src/config.js';

const VALID = {
  PUBLIC_URL: 'https://abc123.ngrok.app',
  GEMINI_API_KEY: 'test-key',
  TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'token',
};
const KEY = 'k'.repeat(24);

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('outbound-call settings in loadConfig', () => {
  it('has no number, no API key and 10 calls a minute by default', () => {
    const config = loadConfig(VALID);
    expect(config.twilio.phoneNumber).toBeUndefined();
    expect(config.outboundCalls).toEqual({ apiKey: undefined, perMinute: 10 });
  });

  it('reads TWILIO_PHONE_NUMBER, OUTBOUND_API_KEY and OUTBOUND_CALLS_PER_MINUTE', () => {
    const config = loadConfig({ ...VALID, TWILIO_PHONE_NUMBER: '+14155550100', OUTBOUND_API_KEY: KEY, OUTBOUND_CALLS_PER_MINUTE: '30' });
    expect(config.twilio.phoneNumber).toBe('+14155550100');
    expect(config.outboundCalls).toEqual({ apiKey: KEY, perMinute: 30 });
  });

  it('names every problem at once: number format, short key, key without a number, rate', () => {
    const problems = problemsOf(() => loadConfig({ ...VALID, TWILIO_PHONE_NUMBER: '(415) 555-0100', OUTBOUND_API_KEY: 'short', OUTBOUND_CALLS_PER_MINUTE: '0' }));
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/TWILIO_PHONE_NUMBER must be .*E\.164/);
    expect(problems.join('\n')).toMatch(/OUTBOUND_API_KEY must be at least 24 characters/);
    expect(problems.join('\n')).toMatch(/OUTBOUND_CALLS_PER_MINUTE must be an integer from 1 to 600/);
    expect(problemsOf(() => loadConfig({ ...VALID, OUTBOUND_API_KEY: KEY }))).toEqual([expect.stringMatching(/OUTBOUND_API_KEY needs TWILIO_PHONE_NUMBER/)]);
    expect(problemsOf(() => loadConfig({ ...VALID, TWILIO_PHONE_NUMBER: '+14155550100', OUTBOUND_API_KEY: `${'k'.repeat(20)} with space` }))).toHaveLength(1);
  });
});

describe('loadTwilioCommandConfig', () => {
  it('needs no Gemini settings', () => {
    const config = loadTwilioCommandConfig({ PUBLIC_URL: 'https://abc123.ngrok.app', TWILIO_ACCOUNT_SID: VALID.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'token', TWILIO_PHONE_NUMBER: '+14155550100' });
    expect(config.publicUrl.origin).toBe('https://abc123.ngrok.app');
    expect(config.twilio).toEqual({ accountSid: VALID.TWILIO_ACCOUNT_SID, authToken: 'token', apiBaseUrl: undefined, phoneNumber: '+14155550100' });
  });

  it('names everything missing or wrong in one error', () => {
    expect(problemsOf(() => loadTwilioCommandConfig({}))).toEqual([
      expect.stringMatching(/^PUBLIC_URL is required/),
      expect.stringMatching(/^TWILIO_ACCOUNT_SID is required/),
      expect.stringMatching(/^TWILIO_AUTH_TOKEN is required/),
      expect.stringMatching(/^TWILIO_PHONE_NUMBER is required/),
    ]);
    const problems = problemsOf(() =>
      loadTwilioCommandConfig({ PUBLIC_URL: 'http://abc.example/x', TWILIO_ACCOUNT_SID: 'ACnope', TWILIO_AUTH_TOKEN: 't', TWILIO_PHONE_NUMBER: '555', TWILIO_API_BASE_URL: 'ftp://x' }),
    );
    expect(problems.join('\n')).toMatch(/PUBLIC_URL must start with https/);
    expect(problems.join('\n')).toMatch(/PUBLIC_URL must be an origin/);
    expect(problems.join('\n')).toMatch(/TWILIO_ACCOUNT_SID must be/);
    expect(problems.join('\n')).toMatch(/TWILIO_PHONE_NUMBER must be/);
    expect(problems.join('\n')).toMatch(/TWILIO_API_BASE_URL must be/);
  });
});
