import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { CallRecord } from './call-record.js';
import type { HistoryStore } from './history-store.js';

/** Records waiting to be written; past this (a store slow for long) the newest are lost, and counted. */
const MAX_QUEUED_RECORDS = 1_000;
const RETENTION_CHECK_INTERVAL_MS = 60 * 60 * 1_000;
/** Old calls deleted per query: each batch lets the calls in progress run before the next. */
const RETENTION_BATCH = 100;
const DAY_MS = 24 * 60 * 60 * 1_000;

export interface HistoryWriterOptions {
  store: HistoryStore;
  log: Logger;
  /** Counts a record the history lost (store down, queue full). */
  onLost: () => void;
  /** HISTORY_RETENTION_DAYS: calls (and their recordings) older than this are deleted, at start and hourly. */
  retentionDays: number | undefined;
  /** DATA_DIR/recordings, where a deleted call's recording files are. */
  recordingsDir: string;
  now?: () => Date;
  /** Old calls deleted per query (tests make it small). */
  retentionBatch?: number;
}

/**
 * Writes call records after their calls, one at a time, off every call's path: `save` only queues. A store that
 * is down loses the record (never the call): the first loss is logged, later ones only counted, until a write
 * succeeds again, which is logged with the number lost meanwhile.
 */
export class HistoryWriter {
  private readonly queue: CallRecord[] = [];
  private draining: Promise<void> | undefined;
  private lostSinceLastWrite = 0;
  private readonly retentionTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: HistoryWriterOptions) {
    if (options.retentionDays !== undefined) {
      const prune = (): void => void this.prune(options.retentionDays as number);
      prune();
      this.retentionTimer = setInterval(prune, RETENTION_CHECK_INTERVAL_MS);
      this.retentionTimer.unref();
    }
  }

  save(record: CallRecord): void {
    if (this.queue.length >= MAX_QUEUED_RECORDS) {
      this.lost(record, new Error(`${MAX_QUEUED_RECORDS} call records already wait to be written`));
      return;
    }
    this.queue.push(record);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves once every record handed over so far has been written (or lost). */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let record = this.queue.shift(); record !== undefined; record = this.queue.shift()) {
      try {
        await this.options.store.insert(record);
        if (this.lostSinceLastWrite > 0) this.options.log.info({ lost: this.lostSinceLastWrite }, 'call history store reachable again');
        this.lostSinceLastWrite = 0;
      } catch (error) {
        this.lost(record, error);
      }
    }
  }

  private lost(record: CallRecord, error: unknown): void {
    this.options.onLost();
    if (this.lostSinceLastWrite === 0) this.options.log.error({ err: error, callSid: record.callSid }, 'could not write the call to the history: this call is lost from it (the call itself was not affected); later losses are counted in phone_agent_history_records_lost_total until a write succeeds');
    this.lostSinceLastWrite++;
  }

  private async prune(retentionDays: number): Promise<void> {
    const cutoff = new Date((this.options.now?.() ?? new Date()).getTime() - retentionDays * DAY_MS);
    const batch = this.options.retentionBatch ?? RETENTION_BATCH;
    let deletedCalls = 0;
    let deletedFiles = 0;
    try {
      for (;;) {
        const calls = await this.options.store.deleteStartedBefore(cutoff, batch);
        const files = calls.flatMap((call) => (call.recording === undefined ? [] : [call.recording.wav, call.recording.events]));
        await Promise.all(files.map((file) => rm(join(this.options.recordingsDir, file), { force: true })));
        deletedCalls += calls.length;
        deletedFiles += files.length;
        if (calls.length < batch) break;
      }
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not delete old calls from the history');
    }
    if (deletedCalls > 0) this.options.log.info({ deletedCalls, deletedFiles, retentionDays }, 'deleted calls past HISTORY_RETENTION_DAYS');
  }
}
