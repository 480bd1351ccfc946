import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../../src/costs/prices.js';
import { loadConfig, resolveConfig } from '../../../src/settings/resolve-config.js';
import { problemsOf } from './problems.js';

describe('the history, its API, the webhook, prices and tracing settings', () => {
  it('keep every call in SQLite under DATA_DIR for 90 days, numbers masked; no API, no webhook, no traces', () => {
    const config = loadConfig({ DATA_DIR: '/var/lib/agent' });
    expect(config.history).toEqual({ enabled: true, sqliteFile: '/var/lib/agent/history.sqlite', retentionDays: 90, phoneNumbers: 'masked', apiKey: undefined, webhookUrl: undefined });
    expect(config.stores.databaseUrl).toBeUndefined();
    expect(config.prices).toBe(DEFAULT_PRICES);
    expect(config.tracing).toEqual({ enabled: false });
  });

  it('read Postgres, the retention, the API key, the webhook and the OTLP endpoint, from the environment or from code', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://agent:secret@db:5432/phone_agent',
      HISTORY_RETENTION_DAYS: '0',
      HISTORY_PHONE_NUMBERS: 'full',
      ADMIN_API_KEY: 'a'.repeat(32),
      CALL_ENDED_WEBHOOK_URL: 'https://crm.example.com/hooks/call-ended',
      TOOL_WEBHOOK_SECRET: 's'.repeat(32),
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
    });
    expect(config.stores.databaseUrl).toBe('postgres://agent:secret@db:5432/phone_agent');
    expect(config.history).toMatchObject({ retentionDays: undefined, phoneNumbers: 'full', apiKey: 'a'.repeat(32) });
    expect(config.history.webhookUrl?.href).toBe('https://crm.example.com/hooks/call-ended');
    expect(config.tracing).toEqual({ enabled: true, tracesUrl: 'http://collector:4318/v1/traces' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }).tracing).toEqual({ enabled: true, tracesUrl: 'http://collector:4318/custom' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toEqual({ enabled: false });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).tracing).toEqual({ enabled: false });
    const fromCode = resolveConfig({ settings: { history: { retentionDays: 30, apiKey: 'b'.repeat(24) }, tracing: { otlpEndpoint: 'http://collector:4318' } } });
    expect([fromCode.history.retentionDays, fromCode.history.apiKey, fromCode.tracing]).toEqual([30, 'b'.repeat(24), { enabled: true, tracesUrl: 'http://collector:4318/v1/traces' }]);
  });

  it('read the price table file over the defaults', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'prices-')), 'prices.json');
    writeFileSync(file, JSON.stringify({ telephony: { inboundPerMinute: 0.02 } }));
    expect(loadConfig({ PRICE_TABLE_FILE: file }).prices.telephony.inboundPerMinute).toBe(0.02);
    writeFileSync(file, JSON.stringify({ telephony: { inboundPerMinute: 'cheap' } }));
    expect(problemsOf({ env: { PRICE_TABLE_FILE: file } })).toEqual(['PRICE_TABLE_FILE (costs.priceTableFile): "telephony.inboundPerMinute" must be a number of US dollars, 0 or more']);
  });

  it('name every problem at once, both ways, never repeating a secret', () => {
    expect(
      problemsOf({ env: { HISTORY: 'yes', DATABASE_URL: 'mysql://user:hunter2@db', HISTORY_RETENTION_DAYS: '-1', HISTORY_PHONE_NUMBERS: 'some', ADMIN_API_KEY: 'short', CALL_ENDED_WEBHOOK_URL: 'ftp://x', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' } }),
    ).toEqual([
      'DATABASE_URL (stores.databaseUrl) must be a postgres:// URL, e.g. postgres://user:password@db:5432/phone_agent',
      'HISTORY (history.enabled) must be 1 or 0, or true or false in code (got "yes")',
      'HISTORY_RETENTION_DAYS (history.retentionDays) must be a whole number of days (0 keeps every call) from 0 to 36500 (got "-1")',
      'HISTORY_PHONE_NUMBERS (history.phoneNumbers) must be one of masked, full (got "some")',
      "ADMIN_API_KEY (history.apiKey) must be at least 24 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-' (e.g. the output of: openssl rand -hex 32)",
      'CALL_ENDED_WEBHOOK_URL (history.webhookUrl) must be an http(s) URL (got "ftp://x")',
      'OTEL_EXPORTER_OTLP_ENDPOINT (tracing.otlpEndpoint) must be an http(s) URL (got "collector:4318")',
    ]);
    expect(problemsOf({ env: { HISTORY: '0', ADMIN_API_KEY: 'a'.repeat(32), CALL_ENDED_WEBHOOK_URL: 'https://crm.example.com/hook' } })).toEqual([
      'ADMIN_API_KEY (history.apiKey) serves the call history, which HISTORY (history.enabled) turns off: unset one of them',
      'CALL_ENDED_WEBHOOK_URL (history.webhookUrl) needs TOOL_WEBHOOK_SECRET (tools.webhookSecret): the post-call webhook is signed with it, as HTTP tool requests are',
    ]);
  });
});
