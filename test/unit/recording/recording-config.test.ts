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

describe('RECORDINGS_RETENTION_DAYS and LOG_TRANSCRIPTS', () => {
  it('keeps recordings unless a number of days is set, and refuses anything but a whole number of days', () => {
    expect(loadConfig(VALID).recording.retentionDays).toBeUndefined();
    expect(loadConfig({ ...VALID, RECORDINGS_RETENTION_DAYS: '30' }).recording.retentionDays).toBe(30);
    for (const value of ['0', '-1', '1.5', 'month']) {
      expect(() => loadConfig({ ...VALID, RECORDINGS_RETENTION_DAYS: value })).toThrow('RECORDINGS_RETENTION_DAYS must be a whole number of days from 1 to 36500');
    }
  });

  it('leaves transcripts out of logs unless LOG_TRANSCRIPTS=1', () => {
    expect(loadConfig(VALID).logTranscripts).toBe(false);
    expect(loadConfig({ ...VALID, LOG_TRANSCRIPTS: '1' }).logTranscripts).toBe(true);
    expect(() => loadConfig({ ...VALID, LOG_TRANSCRIPTS: 'yes' })).toThrow('LOG_TRANSCRIPTS must be 0 or 1 (got "yes")');
  });
});
