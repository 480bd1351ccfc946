import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

const VALID = {
  PUBLIC_URL: 'https://abc123.ngrok.app',
  GEMINI_API_KEY: 'test-key',
  TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'token',
};

describe('RECORD_CALLS', () => {
  it('is off unless set to 1, and records under DATA_DIR/recordings', () => {
    expect(loadConfig(VALID).recording).toEqual({ enabled: false, dir: join('./data', 'recordings') });
    expect(loadConfig({ ...VALID, RECORD_CALLS: '0' }).recording.enabled).toBe(false);
    expect(loadConfig({ ...VALID, RECORD_CALLS: '1', DATA_DIR: '/var/lib/agent' }).recording).toEqual({ enabled: true, dir: '/var/lib/agent/recordings' });
  });

  it('accepts only 0 or 1', () => {
    for (const value of ['yes', 'true', '2']) {
      expect(() => loadConfig({ ...VALID, RECORD_CALLS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ...VALID, RECORD_CALLS: value })).toThrow(`RECORD_CALLS must be 0 or 1 (got "${value}")`);
    }
  });
});
