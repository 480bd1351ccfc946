import { relative } from 'node:path';
import { CallHistory } from '../history/call-history.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import { startTracing, type CallTracing } from '../observability/tracing.js';
import { recordingPaths } from '../recording/call-recordings.js';
import type { Config } from '../settings/config.js';

/** What keeps each call after it: the call history (with its webhook and live calls), and traces when configured. */
export interface CallKeeping {
  history: CallHistory;
  tracing: CallTracing | undefined;
}

export async function openCallKeeping(config: Config, log: Logger, metrics: AppMetrics): Promise<CallKeeping> {
  const { history, stores, tools } = config;
  const webhookSecret = tools.webhookSecret;
  return {
    history: new CallHistory({
      store: history.enabled ? { databaseUrl: stores.databaseUrl, sqliteFile: history.sqliteFile, retentionDays: history.retentionDays } : undefined,
      phoneNumbers: history.phoneNumbers,
      webhook: history.webhookUrl === undefined || webhookSecret === undefined ? undefined : { url: history.webhookUrl, secret: webhookSecret },
      recordingsDir: config.recording.dir,
      log,
      onRecordLost: () => metrics.historyRecordsLost.inc(),
      onWebhookFailed: () => metrics.callEndedWebhookFailures.inc(),
    }),
    // OpenTelemetry's packages are loaded only when traces are configured.
    tracing: config.tracing.enabled ? await startTracing({ instanceId: config.fleet.instanceId, tracesUrl: config.tracing.tracesUrl }) : undefined,
  };
}

/** A recording's files, relative to the recordings directory (as the history keeps them). */
export function recordingFiles(dir: string, callSid: string, startedAt: Date): { wav: string; events: string } {
  const paths = recordingPaths(dir, callSid, startedAt);
  return { wav: relative(dir, paths.wav), events: relative(dir, paths.json) };
}
