import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration } from 'kysely';
import pg from 'pg';
import type { CallRecord } from './call-record.js';
import { openSqlite } from './sqlite.js';

/** A call in the history's list: what the list page shows and filters on, without the transcript. */
export interface CallListItem {
  callSid: string;
  startedAt: string;
  endedAt: string;
  agent: string;
  direction: CallRecord['direction'];
  channel: CallRecord['channel'];
  from: string | undefined;
  to: string | undefined;
  endReason: CallRecord['endReason'];
  durationMs: number;
  costUsd: number;
  costEstimated: boolean;
  tokens: number;
  heardP50Ms: number | undefined;
  heardP95Ms: number | undefined;
  interruptions: number;
  toolCalls: number;
  recorded: boolean;
}

export function listItemOf(record: CallRecord): CallListItem {
  const { summary } = record;
  return {
    callSid: record.callSid,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    agent: record.agent,
    direction: record.direction,
    channel: record.channel,
    from: record.from,
    to: record.to,
    endReason: record.endReason,
    durationMs: record.durationMs,
    costUsd: summary.cost.total,
    costEstimated: summary.cost.estimated,
    tokens: summary.tokens.total,
    heardP50Ms: record.latency.heardP50Ms,
    heardP95Ms: record.latency.heardP95Ms,
    interruptions: record.bargeIns.length,
    toolCalls: record.tools.length,
    recorded: record.recording !== undefined,
  };
}

export interface CallFilter {
  /** Calls that started at or after `from` and before `to` (ISO times). */
  from?: string;
  to?: string;
  agent?: string;
  endReason?: CallRecord['endReason'];
  direction?: CallRecord['direction'];
  channel?: CallRecord['channel'];
}

export interface CallPage {
  calls: CallListItem[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

interface HistorySchema {
  calls: {
    call_sid: string;
    /** ISO 8601 UTC (`…Z`): sorts and compares as time on both databases. */
    started_at: string;
    agent: string;
    direction: string;
    channel: string;
    end_reason: string;
    /** The list item (CallListItem) and the whole record (CallRecord), as JSON. */
    item: string;
    record: string;
  };
}

type Db = Kysely<HistorySchema>;

/** The history's tables, created on first use by Kysely's Migrator (one code path for SQLite and Postgres). */
export const HISTORY_MIGRATIONS: Record<string, Migration> = {
  '2026-12-01-calls': {
    up: async (db) => {
      await db.schema
        .createTable('calls')
        .addColumn('call_sid', 'text', (column) => column.primaryKey())
        .addColumn('started_at', 'text', (column) => column.notNull())
        .addColumn('agent', 'text', (column) => column.notNull())
        .addColumn('direction', 'text', (column) => column.notNull())
        .addColumn('channel', 'text', (column) => column.notNull())
        .addColumn('end_reason', 'text', (column) => column.notNull())
        .addColumn('item', 'text', (column) => column.notNull())
        .addColumn('record', 'text', (column) => column.notNull())
        .execute();
      await db.schema.createIndex('calls_started').on('calls').columns(['started_at', 'call_sid']).execute();
      await db.schema.createIndex('calls_agent_started').on('calls').columns(['agent', 'started_at']).execute();
    },
  },
};

export interface HistoryStoreOptions {
  /** Postgres (DATABASE_URL); without it, SQLite in `sqliteFile`. */
  databaseUrl?: string | undefined;
  sqliteFile: string;
}

/** How long a Postgres connection attempt or query may take before the history counts the store as down. */
const POSTGRES_TIMEOUT_MS = 5_000;
const SQLITE_BUSY_TIMEOUT_MS = 5_000;
export const MAX_PAGE_SIZE = 200;

/**
 * The call history on SQLite (a file under DATA_DIR, the default) or Postgres (DATABASE_URL), through one Kysely
 * query layer; the table comes from migrations in code, run on first use. Opening never fails: a database that
 * cannot be reached fails the operation that needed it, and the next one tries again.
 */
export class HistoryStore {
  private ready: Promise<Db> | undefined;
  private db: Db | undefined;

  constructor(private readonly options: HistoryStoreOptions) {}

  get dialect(): 'sqlite' | 'postgres' {
    return this.options.databaseUrl === undefined ? 'sqlite' : 'postgres';
  }

  async insert(record: CallRecord): Promise<void> {
    const db = await this.connect();
    const row = {
      call_sid: record.callSid,
      started_at: record.startedAt,
      agent: record.agent,
      direction: record.direction,
      channel: record.channel,
      end_reason: record.endReason,
      item: JSON.stringify(listItemOf(record)),
      record: JSON.stringify(record),
    };
    // A call continued on another stream (failover) ends twice: the later record replaces the earlier.
    const { call_sid: _, ...update } = row;
    await db.insertInto('calls').values(row).onConflict((conflict) => conflict.column('call_sid').doUpdateSet(update)).execute();
  }

  async get(callSid: string): Promise<CallRecord | undefined> {
    const db = await this.connect();
    const row = await db.selectFrom('calls').select('record').where('call_sid', '=', callSid).executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.record) as CallRecord);
  }

  /** Newest first; `cursor` continues a listing where its last page ended. */
  async list(filter: CallFilter, limit: number, cursor?: string): Promise<CallPage> {
    const db = await this.connect();
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    let query = db.selectFrom('calls').select(['item', 'started_at', 'call_sid']);
    if (filter.from !== undefined) query = query.where('started_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('started_at', '<', filter.to);
    if (filter.agent !== undefined) query = query.where('agent', '=', filter.agent);
    if (filter.endReason !== undefined) query = query.where('end_reason', '=', filter.endReason);
    if (filter.direction !== undefined) query = query.where('direction', '=', filter.direction);
    if (filter.channel !== undefined) query = query.where('channel', '=', filter.channel);
    if (after !== undefined) {
      query = query.where((eb) => eb.or([eb('started_at', '<', after.startedAt), eb.and([eb('started_at', '=', after.startedAt), eb('call_sid', '<', after.callSid)])]));
    }
    const rows = await query.orderBy('started_at', 'desc').orderBy('call_sid', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      calls: page.map((row) => JSON.parse(row.item) as CallListItem),
      ...(rows.length > limit && last !== undefined ? { nextCursor: encodeCursor({ startedAt: last.started_at, callSid: last.call_sid }) } : {}),
    };
  }

  /**
   * Deletes up to `limit` of the calls that started before `cutoff`, oldest first; returns what they left on disk
   * (their recordings are the caller's to delete). A batch at a time: a first prune of a long history does not hold
   * the process (SQLite answers on the event loop) while it reads thousands of records.
   */
  async deleteStartedBefore(cutoff: Date, limit: number): Promise<Array<Pick<CallRecord, 'callSid' | 'recording'>>> {
    const db = await this.connect();
    const rows = await db.selectFrom('calls').select(['call_sid', 'record']).where('started_at', '<', cutoff.toISOString()).orderBy('started_at').limit(limit).execute();
    if (rows.length > 0) await db.deleteFrom('calls').where('call_sid', 'in', rows.map((row) => row.call_sid)).execute();
    return rows.map((row) => ({ callSid: row.call_sid, recording: (JSON.parse(row.record) as CallRecord).recording }));
  }

  async close(): Promise<void> {
    const db = this.db ?? (await this.ready?.catch(() => undefined));
    this.ready = undefined;
    this.db = undefined;
    await db?.destroy();
  }

  private connect(): Promise<Db> {
    this.ready ??= this.open().catch((error: unknown) => {
      this.ready = undefined; // try again next time
      throw error;
    });
    return this.ready;
  }

  private async open(): Promise<Db> {
    const db = await this.dialectDb();
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(HISTORY_MIGRATIONS) }, migrationTableName: 'history_migrations', migrationLockTableName: 'history_migrations_lock' });
      const { error } = await migrator.migrateToLatest();
      if (error !== undefined) throw error;
    } catch (error) {
      await db.destroy().catch(() => undefined);
      throw error;
    }
    this.db = db;
    return db;
  }

  private async dialectDb(): Promise<Db> {
    const { databaseUrl, sqliteFile } = this.options;
    if (databaseUrl !== undefined) {
      const pool = new pg.Pool({ connectionString: databaseUrl, connectionTimeoutMillis: POSTGRES_TIMEOUT_MS, query_timeout: POSTGRES_TIMEOUT_MS, max: 4 });
      // A broken idle connection (Postgres restarted) is reported here; the pool replaces it on the next query.
      pool.on('error', () => undefined);
      return new Kysely<HistorySchema>({ dialect: new PostgresDialect({ pool }) });
    }
    mkdirSync(dirname(sqliteFile), { recursive: true, mode: 0o700 });
    const database = await openSqlite(sqliteFile, SQLITE_BUSY_TIMEOUT_MS);
    return new Kysely<HistorySchema>({ dialect: new SqliteDialect({ database }) });
  }
}

function encodeCursor(position: { startedAt: string; callSid: string }): string {
  return Buffer.from(JSON.stringify([position.startedAt, position.callSid])).toString('base64url');
}

/** A cursor this store made; anything else is refused (the API answers 400). */
export function decodeCursor(cursor: string): { startedAt: string; callSid: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { startedAt: value[0], callSid: value[1] };
  } catch {
    // refused below
  }
  throw new InvalidCursorError();
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}
