import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { DEFAULT_PRICES } from '../../src/costs/prices.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the history, its API, the webhook, prices and tracing settings', () => {
  it('keep every call in SQLite under DATA_DIR for 90 days, numbers masked; no API, no webhook, no traces', () => {
    const config = loadConfig({ DATA_DIR: '/var/lib/agent' });
    expect(config.history).toEqual({ enabled: true, databaseUrl: undefined, sqliteFile: '/var/lib/agent/history.sqlite', retentionDays: 90, phoneNumbers: 'masked' });
    expect([config.adminApiKey, config.callEndedWebhookUrl]).toEqual([undefined, undefined]);
    expect(config.prices).toBe(DEFAULT_PRICES);
    expect(config.tracing).toEqual({ enabled: false });
  });

  it('read Postgres, the retention, the API key, the webhook and the OTLP endpoint', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://agent:secret@db:5432/phone_agent',
      HISTORY_RETENTION_DAYS: '0',
      HISTORY_PHONE_NUMBERS: 'full',
      ADMIN_API_KEY: 'a'.repeat(32),
      CALL_ENDED_WEBHOOK_URL: 'https://crm.example.com/hooks/call-ended',
      TOOL_WEBHOOK_SECRET: 's'.repeat(32),
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
    });
    expect(config.history).toMatchObject({ databaseUrl: 'postgres://agent:secret@db:5432/phone_agent', retentionDays: undefined, phoneNumbers: 'full' });
    expect(config.callEndedWebhookUrl?.href).toBe('https://crm.example.com/hooks/call-ended');
    expect(config.tracing).toEqual({ enabled: true, tracesUrl: 'http://collector:4318/v1/traces' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }).tracing).toEqual({ enabled: true, tracesUrl: 'http://collector:4318/custom' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toEqual({ enabled: false });
  });

  it('name every problem at once', () => {
    expect(problemsOf({ HISTORY: 'yes', DATABASE_URL: 'mysql://db', HISTORY_RETENTION_DAYS: '-1', HISTORY_PHONE_NUMBERS: 'some', ADMIN_API_KEY: 'short', CALL_ENDED_WEBHOOK_URL: 'ftp://x', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      'HISTORY must be 0 or 1 (got "yes")',
      'DATABASE_URL must be a postgres:// URL, e.g. postgres://user:password@db:5432/phone_agent',
      'HISTORY_RETENTION_DAYS must be a whole number of days from 0 (keep every call) to 36500',
      'HISTORY_PHONE_NUMBERS must be masked or full (got "some")',
      "ADMIN_API_KEY must be at least 24 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-' (e.g. the output of: openssl rand -hex 32)",
      'CALL_ENDED_WEBHOOK_URL must be an http(s) URL',
      'CALL_ENDED_WEBHOOK_URL needs TOOL_WEBHOOK_SECRET: the post-call webhook is signed with it, as HTTP tool requests are',
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL (the OTLP/HTTP receiver)',
    ]);
    expect(problemsOf({ HISTORY: '0', ADMIN_API_KEY: 'a'.repeat(32) })).toEqual(['ADMIN_API_KEY serves the call history, which HISTORY=0 turns off: unset one of them']);
  });
});
