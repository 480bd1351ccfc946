import type { CallDetails } from '../domain/call-details.js';
import type { CallObserver } from '../observability/call-observation.js';
import type { Logger } from '../observability/logger.js';
import { adminRoutes } from './admin-api.js';
import { CallEndedWebhook } from './call-ended-webhook.js';
import type { CallRecord } from './call-record.js';
import { HistoryStore } from './history-store.js';
import { HistoryWriter } from './history-writer.js';
import { LiveCalls } from './live-calls.js';
import { callRecordBuilder } from './record-builder.js';
import type express from 'express';

export interface CallHistoryOptions {
  /** Where records are kept; undefined: no history (HISTORY=0), records only go to the webhook. */
  store: { databaseUrl: string | undefined; sqliteFile: string; retentionDays: number | undefined } | undefined;
  phoneNumbers: 'masked' | 'full';
  /** CALL_ENDED_WEBHOOK_URL and the secret it is signed with. */
  webhook: { url: URL; secret: string } | undefined;
  /** DATA_DIR/recordings. */
  recordingsDir: string;
  log: Logger;
  /** Counted in the metrics: a record the history lost, a webhook delivery given up. */
  onRecordLost: () => void;
  onWebhookFailed: () => void;
}

/** What a call's record needs beyond its details. */
export interface RecordedCall {
  call: CallDetails;
  channel: CallRecord['channel'];
  model: string;
  maskToolArguments: (toolName: string, args: unknown) => unknown;
  recording: CallRecord['recording'];
}

/**
 * The service's call history: each call's record built as it goes, written after it ends (HistoryWriter), sent to
 * the post-call webhook, and the calls in progress for the inspector; the API and the page over them.
 */
export class CallHistory {
  readonly live = new LiveCalls();
  readonly store: HistoryStore | undefined;
  private readonly writer: HistoryWriter | undefined;
  private readonly webhook: CallEndedWebhook | undefined;

  constructor(private readonly options: CallHistoryOptions) {
    const { store, webhook, log } = options;
    if (store !== undefined) {
      this.store = new HistoryStore(store);
      this.writer = new HistoryWriter({ store: this.store, log, onLost: options.onRecordLost, retentionDays: store.retentionDays, recordingsDir: options.recordingsDir });
    }
    if (webhook !== undefined) this.webhook = new CallEndedWebhook({ ...webhook, log, onFailed: options.onWebhookFailed });
  }

  /** The call's observers: its record (for the store and the webhook) and its entry among the live calls. */
  observers(recorded: RecordedCall): CallObserver[] {
    const record =
      this.writer === undefined && this.webhook === undefined
        ? []
        : [
            callRecordBuilder({
              ...recorded,
              phoneNumbers: this.options.phoneNumbers,
              // Handed over on the next turn of the event loop: nothing of the writing happens on the call's path.
              onRecord: (finished) =>
                setImmediate(() => {
                  this.writer?.save(finished);
                  this.webhook?.send(finished);
                }),
            }),
          ];
    return [...record, this.live.observer(recorded.call, recorded.channel, this.options.phoneNumbers)];
  }

  /** The API and the inspector, for ADMIN_API_KEY; undefined without a store. */
  routes(apiKey: string): express.Router | undefined {
    if (this.store === undefined) return undefined;
    return adminRoutes({ apiKey, store: this.store, live: this.live, recordingsDir: this.options.recordingsDir, log: this.options.log });
  }

  /** Writes what the ended calls left, then closes the store (server stopping). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve)); // records handed over by calls ended just now
    await this.writer?.close();
    this.webhook?.close();
    await this.store?.close();
  }
}
