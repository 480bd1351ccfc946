import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/settings/resolve-config.js';
import { loadTwilioCommandConfig } from '../../../src/settings/twilio-commands.js';

const ACCOUNT_SID = `AC${'a'.repeat(32)}`;

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadTwilioCommandConfig', () => {
  it('needs no Gemini settings', () => {
    const config = loadTwilioCommandConfig({ PUBLIC_URL: 'https://abc123.ngrok.app', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'token', TWILIO_PHONE_NUMBER: '+14155550100' });
    expect(config.publicUrl.origin).toBe('https://abc123.ngrok.app');
    expect(config.twilio).toEqual({ accountSid: ACCOUNT_SID, authToken: 'token', apiBaseUrl: undefined, phoneNumber: '+14155550100' });
  });

  it('names everything missing or wrong in one error, in the words the service uses for the same variables', () => {
    expect(problemsOf(() => loadTwilioCommandConfig({}))).toEqual([
      expect.stringMatching(/^PUBLIC_URL is required/),
      expect.stringMatching(/^TWILIO_ACCOUNT_SID is required/),
      expect.stringMatching(/^TWILIO_AUTH_TOKEN is required/),
      expect.stringMatching(/^TWILIO_PHONE_NUMBER is required/),
    ]);
    const problems = problemsOf(() =>
      loadTwilioCommandConfig({ PUBLIC_URL: 'http://abc.example/x', TWILIO_ACCOUNT_SID: 'ACnope', TWILIO_AUTH_TOKEN: 't', TWILIO_PHONE_NUMBER: '555', TWILIO_API_BASE_URL: 'ftp://x' }),
    );
    expect(problems).toEqual([
      'PUBLIC_URL must start with https://, since Twilio only streams to wss://; must be an origin such as https://abc123.ngrok.app, without a path or query (got "http://abc.example/x")',
      'TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits (got "ACnope")',
      'TWILIO_PHONE_NUMBER must be an E.164 phone number: + and country code, digits only, e.g. +14155550100 (got "555")',
      'TWILIO_API_BASE_URL must be an http(s) URL (got "ftp://x")',
    ]);
  });
});
