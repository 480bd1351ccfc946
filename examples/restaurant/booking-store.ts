import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  WEEKDAYS,
  addDays,
  daysBetween,
  isCalendarDate,
  localNow,
  parseClockTime,
  spokenDate,
  spokenTime,
  weekdayOf,
  type LocalNow,
  type Weekday,
} from './restaurant-time.js';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type Selectable } from 'kysely';
import pg from 'pg';
import { openDatabase, statementCache, type SqliteDatabase } from './sqlite.js';

/** The restaurant as seeded: opening pattern, booking rules and its tables. */
export interface RestaurantProfile {
  name: string;
  /** First and last time a table can be booked for, `HH:MM` local. */
  firstSeating: string;
  lastSeating: string;
  /** Bookings start on multiples of this many minutes past the hour. */
  slotMinutes: number;
  /** How long a party holds its table. */
  seatingMinutes: number;
  closedOn: Weekday[];
  /** How many days ahead tables can be booked. */
  bookingWindowDays: number;
  tables: Array<{ id: string; seats: number }>;
}

export type BookingStatus = 'confirmed' | 'cancelled';

export interface Booking {
  code: string;
  guestName: string;
  /** E.164. */
  phone: string;
  partySize: number;
  /** Restaurant-local `YYYY-MM-DD` and minutes after local midnight. */
  date: string;
  startMinute: number;
  tableId: string;
  status: BookingStatus;
  notes: string | undefined;
  createdAt: string;
}

export interface NewBooking {
  guestName: string;
  phone: string;
  partySize: number;
  date: string;
  startMinute: number;
  notes?: string | undefined;
}

export type CreateResult =
  | { kind: 'booked'; booking: Booking }
  /** The same phone already holds this exact booking (a retried request): nothing new was made. */
  | { kind: 'duplicate'; booking: Booking }
  | { kind: 'full'; alternatives: number[] }
  | { kind: 'refused'; reason: string };

export type CancelResult =
  | { kind: 'cancelled'; booking: Booking }
  | { kind: 'already-cancelled'; booking: Booking }
  | { kind: 'past'; booking: Booking }
  | { kind: 'not-found' };

export interface BookingStoreOptions {
  /** SQLite (the default): the database lives in `<dataDir>/restaurant.sqlite`; the directory is created if missing. */
  dataDir?: string;
  /** Postgres instead of SQLite: `postgres://user:password@host:5432/database`. */
  databaseUrl?: string;
  /** IANA zone of the restaurant: decides what "now" is there. */
  timeZone: string;
  /** The restaurant (house rules, tables) and the bookings the database is seeded with, once, on first start. */
  seedFile?: string;
  now?: () => Date;
}

export const DEFAULT_SEED_FILE = fileURLToPath(new URL('./seed.json', import.meta.url));
export const DATABASE_FILE_NAME = 'restaurant.sqlite';
/** How long a SQLite writer waits for another connection's transaction before giving up. */
const BUSY_TIMEOUT_MS = 5_000;
/** How long a Postgres connection attempt may take before the tool says the booking system is unavailable. */
const CONNECT_TIMEOUT_MS = 3_000;
/** Confirmation codes avoid characters that sound or look alike (0/O, 1/I/L). */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_LENGTH = 6;
const KEYPAD: Record<string, string> = {
  A: '2', B: '2', C: '2', D: '3', E: '3', F: '3', G: '4', H: '4', I: '4', J: '5', K: '5', L: '5',
  M: '6', N: '6', O: '6', P: '7', Q: '7', R: '7', S: '7', T: '8', U: '8', V: '8', W: '9', X: '9', Y: '9', Z: '9',
};

export type DatabaseDialect = 'sqlite' | 'postgres';

/** The tables as Kysely sees them: one typed query code path for SQLite and Postgres. */
export interface BookingsSchema {
  restaurant: { id: number; profile: string };
  dining_tables: { id: string; seats: number };
  bookings: {
    code: string;
    keypad_digits: string;
    guest_name: string;
    phone: string;
    party_size: number;
    /** `YYYY-MM-DD` as text on both dialects: it sorts and compares as a date. */
    date: string;
    start_minute: number;
    end_minute: number;
    table_id: string;
    status: BookingStatus;
    notes: string | null;
    created_at: string;
    cancelled_at: string | null;
  };
}

type BookingRow = Selectable<BookingsSchema['bookings']>;
type Db = Kysely<BookingsSchema>;

interface SeedBooking {
  code: string;
  guestName: string;
  phone: string;
  partySize: number;
  /**
   * `inDays`: that many days after the day the database is seeded (its first start), moved on to the next open day
   * when the restaurant is closed then, so the sample bookings lie ahead whenever you try the example. `date`:
   * a fixed `YYYY-MM-DD`.
   */
  inDays?: number;
  date?: string;
  time: string;
  status: BookingStatus;
  notes?: string;
}

interface Seed {
  restaurant: RestaurantProfile;
  bookings: SeedBooking[];
}

/**
 * The database could not be reached or did not answer in time (Postgres down or restarting, a SQLite file
 * locked for longer than the busy timeout). The tools turn it into an answer for the model; the call goes on.
 */
export class BookingSystemUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`the bookings database is unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'BookingSystemUnavailableError';
  }
}

/**
 * The restaurant's reservations, on SQLite (a file under DATA_DIR, the default) or Postgres (DATABASE_URL),
 * through one Kysely query layer. The schema comes from migrations in code (`bookingMigrations`), run on first
 * use by Kysely's Migrator; the seed is the last of them, so it runs once, on first start, on either database.
 *
 * No table is ever booked twice for overlapping times, even with many processes on one database:
 * - SQLite: every change is one transaction that takes the database's write lock before it reads
 *   (`BEGIN IMMEDIATE`), so a table seen free is still free when it is booked.
 * - Postgres: the booking transaction first locks the rows of every table that fits the party
 *   (`SELECT … FOR UPDATE`, in id order so two bookings never wait on each other in a cycle). Two bookings
 *   that could take the same table queue on that lock; the second one's reads (READ COMMITTED: a fresh
 *   snapshot per statement) then see the first one's booking. Unlike SERIALIZABLE, nothing has to be retried.
 * - Both: the database itself refuses an overlapping confirmed booking of one table whatever code writes
 *   (triggers on SQLite, an exclusion constraint on Postgres), so the guarantee does not rest on this class alone.
 */
export class BookingStore {
  /** The restaurant as the database holds it (until the database is first reached: as the seed file says). */
  profile: RestaurantProfile;
  private firstSeatingMinute: number;
  private lastSeatingMinute: number;
  private readying: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly db: Db,
    readonly dialect: DatabaseDialect,
    readonly timeZone: string,
    private readonly clock: () => Date,
    private readonly seed: Seed,
  ) {
    this.profile = seed.restaurant;
    this.firstSeatingMinute = parseClockTime(this.profile.firstSeating) ?? 0;
    this.lastSeatingMinute = parseClockTime(this.profile.lastSeating) ?? 0;
  }

  /** Opens the database, creating, migrating and seeding it on first start; rejects if it cannot be reached. */
  static async open(options: BookingStoreOptions): Promise<BookingStore> {
    const store = BookingStore.openLazily(options);
    try {
      await store.ready();
      return store;
    } catch (error) {
      await store.close();
      throw error instanceof BookingSystemUnavailableError ? error.cause : error;
    }
  }

  /**
   * Returns at once, for an agent defined synchronously: the seed file is read and checked now (a broken one
   * stops start-up), the SQLite file is opened now; Postgres is first reached, and the migrations run, on
   * first use. If Postgres is down then, that use fails with `BookingSystemUnavailableError` and the next one
   * tries again.
   */
  static openLazily(options: BookingStoreOptions): BookingStore {
    const seed = readSeed(options.seedFile ?? DEFAULT_SEED_FILE);
    const clock = options.now ?? (() => new Date());
    if (options.databaseUrl !== undefined) {
      const pool = new pg.Pool({ connectionString: options.databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: 5 });
      // An idle connection that breaks (Postgres restarted) is reported here; without a listener it would
      // crash the process. The pool drops it and connects afresh for the next query.
      pool.on('error', () => undefined);
      return new BookingStore(new Kysely<BookingsSchema>({ dialect: new PostgresDialect({ pool }) }), 'postgres', options.timeZone, clock, seed);
    }
    if (options.dataDir === undefined) throw new Error('BookingStore needs dataDir (SQLite) or databaseUrl (Postgres)');
    return new BookingStore(sharedSqlite(options.dataDir), 'sqlite', options.timeZone, clock, seed);
  }

  /** Migrates (and on first start seeds) the database and reads the restaurant from it; once, retried after a failure. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the booking store is closed'));
    this.readying ??= this.migrate().catch((error: unknown) => {
      this.readying = undefined;
      throw unavailable(error);
    });
    return this.readying;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await (this.dialect === 'sqlite' ? releaseSqlite(this.db) : this.db.destroy());
  }

  /** What time it is at the restaurant. */
  now(): LocalNow {
    return localNow(this.timeZone, this.clock());
  }

  get largestTable(): number {
    return Math.max(...this.profile.tables.map((table) => table.seats));
  }

  /** Why a table cannot be booked for this date, time and party under the house rules; undefined if it can. */
  checkRules(date: string, startMinute: number, partySize: number): string | undefined {
    const { profile } = this;
    if (!isCalendarDate(date)) return `${date} is not a date on the calendar.`;
    if (partySize > this.largestTable) {
      return `The largest table seats ${this.largestTable}; a bigger group needs to speak with the staff.`;
    }
    const weekday = weekdayOf(date);
    if (profile.closedOn.includes(weekday)) return `The restaurant is closed on ${weekday}s.`;
    if (startMinute < this.firstSeatingMinute || startMinute > this.lastSeatingMinute) {
      return `Tables can be booked from ${spokenTime(this.firstSeatingMinute)} to ${spokenTime(this.lastSeatingMinute)}.`;
    }
    if ((startMinute - this.firstSeatingMinute) % profile.slotMinutes !== 0) {
      return `Bookings start every ${profile.slotMinutes} minutes (for example ${spokenTime(startMinute - (startMinute % profile.slotMinutes))}).`;
    }
    const now = this.now();
    const daysAhead = daysBetween(now.date, date);
    if (daysAhead < 0 || (daysAhead === 0 && startMinute <= now.minute)) {
      return `That time has already passed: it is now ${spokenDate(now.date)}, ${spokenTime(now.minute)} at the restaurant.`;
    }
    if (daysAhead > profile.bookingWindowDays) return `Tables can be booked at most ${profile.bookingWindowDays} days ahead.`;
    return undefined;
  }

  /** Whether a table for `partySize` is free at this date and time (the house rules are not checked here). */
  hasFreeTable(date: string, startMinute: number, partySize: number): Promise<boolean> {
    return this.use(async (db) => (await this.freeTable(db, date, startMinute, partySize)) !== undefined);
  }

  /** Up to `count` bookable start times on the same day, nearest to the asked time first. */
  alternatives(date: string, startMinute: number, partySize: number, count = 3): Promise<number[]> {
    return this.use(async (db) => {
      const slots: number[] = [];
      for (let minute = this.firstSeatingMinute; minute <= this.lastSeatingMinute; minute += this.profile.slotMinutes) {
        if (minute !== startMinute) slots.push(minute);
      }
      slots.sort((a, b) => Math.abs(a - startMinute) - Math.abs(b - startMinute) || a - b);
      const found: number[] = [];
      for (const minute of slots) {
        if (found.length >= count) break;
        if (this.checkRules(date, minute, partySize) === undefined && (await this.freeTable(db, date, minute, partySize)) !== undefined) found.push(minute);
      }
      return found;
    });
  }

  /** Books the smallest free table that fits, atomically; a retried identical request returns the first booking. */
  async create(request: NewBooking): Promise<CreateResult> {
    const reason = this.checkRules(request.date, request.startMinute, request.partySize);
    if (reason !== undefined) return { kind: 'refused', reason };
    const result = await this.write(async (trx): Promise<CreateResult> => {
      if (this.dialect === 'postgres') {
        // The row locks that serialize bookings which could take the same table (see the class comment).
        await trx.selectFrom('dining_tables').select('id').where('seats', '>=', request.partySize).orderBy('id').forUpdate().execute();
      }
      const same = await trx
        .selectFrom('bookings')
        .selectAll()
        .where('phone', '=', request.phone)
        .where('date', '=', request.date)
        .where('start_minute', '=', request.startMinute)
        .where('party_size', '=', request.partySize)
        .where('status', '=', 'confirmed')
        .executeTakeFirst();
      if (same !== undefined) return { kind: 'duplicate', booking: toBooking(same) };
      const tableId = await this.freeTable(trx, request.date, request.startMinute, request.partySize);
      if (tableId === undefined) return { kind: 'full', alternatives: [] };
      const code = await newCode(trx);
      const row: BookingRow = {
        code,
        keypad_digits: keypadDigits(code),
        guest_name: request.guestName,
        phone: request.phone,
        party_size: request.partySize,
        date: request.date,
        start_minute: request.startMinute,
        end_minute: request.startMinute + this.profile.seatingMinutes,
        table_id: tableId,
        status: 'confirmed',
        notes: request.notes ?? null,
        created_at: this.clock().toISOString(),
        cancelled_at: null,
      };
      await trx.insertInto('bookings').values(row).execute();
      return { kind: 'booked', booking: toBooking(row) };
    });
    if (result.kind === 'full') return { kind: 'full', alternatives: await this.alternatives(request.date, request.startMinute, request.partySize) };
    return result;
  }

  findByCode(code: string): Promise<Booking | undefined> {
    return this.use(async (db) => {
      const row = await db.selectFrom('bookings').selectAll().where('code', '=', code).executeTakeFirst();
      return row === undefined ? undefined : toBooking(row);
    });
  }

  /** Bookings whose code, typed on a phone keypad (letters as their digit), gives these digits. */
  findByKeypadDigits(digits: string): Promise<Booking[]> {
    return this.use(async (db) =>
      (await db.selectFrom('bookings').selectAll().where('keypad_digits', '=', digits).orderBy('date').orderBy('start_minute').execute()).map(toBooking),
    );
  }

  /** Confirmed bookings from today on for this phone number, soonest first. */
  upcomingForPhone(phone: string): Promise<Booking[]> {
    const now = this.now();
    return this.use(async (db) =>
      (
        await db
          .selectFrom('bookings')
          .selectAll()
          .where('phone', '=', phone)
          .where('date', '>=', now.date)
          .where('status', '=', 'confirmed')
          .orderBy('date')
          .orderBy('start_minute')
          .execute()
      )
        .map(toBooking)
        .filter((booking) => booking.date > now.date || booking.startMinute > now.minute),
    );
  }

  cancel(code: string): Promise<CancelResult> {
    return this.write(async (trx): Promise<CancelResult> => {
      const query = trx.selectFrom('bookings').selectAll().where('code', '=', code);
      // On Postgres the booking's row is locked, so two cancellations of it cannot both report 'cancelled'.
      const row = await (this.dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
      if (row === undefined) return { kind: 'not-found' };
      const booking = toBooking(row);
      if (booking.status === 'cancelled') return { kind: 'already-cancelled', booking };
      if (this.hasStarted(booking)) return { kind: 'past', booking };
      await trx.updateTable('bookings').set({ status: 'cancelled', cancelled_at: this.clock().toISOString() }).where('code', '=', code).execute();
      return { kind: 'cancelled', booking: { ...booking, status: 'cancelled' } };
    });
  }

  hasStarted(booking: Booking): boolean {
    const now = this.now();
    return booking.date < now.date || (booking.date === now.date && booking.startMinute <= now.minute);
  }

  /** Runs reads once the database is ready; a database that cannot be reached becomes `BookingSystemUnavailableError`. */
  private async use<T>(work: (db: Db) => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await work(this.db);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /**
   * One write transaction. SQLite: `BEGIN IMMEDIATE` on the store's one connection (Kysely's own transactions
   * start with a deferred `BEGIN`, which takes the write lock only at the first write: too late, and another
   * process's commit in between makes that first write fail instead of waiting). Postgres: a READ COMMITTED
   * transaction; the work takes its own row locks.
   */
  private write<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') return this.use((db) => db.transaction().execute(work));
    return this.use((db) => db.connection().execute((connection) => immediateTransaction(connection, work)));
  }

  private async freeTable(db: Db, date: string, startMinute: number, partySize: number): Promise<string | undefined> {
    return (await freeTableQuery(db, date, startMinute, startMinute + this.profile.seatingMinutes, partySize, false).executeTakeFirst())?.id;
  }

  private async migrate(): Promise<void> {
    const migrations = bookingMigrations(this.dialect, this.seed, () => this.now().date);
    if (this.dialect === 'postgres') {
      // Kysely's Migrator holds a Postgres advisory lock while it migrates: two processes starting together
      // on an empty database run the migrations (and the seed) once.
      await runMigrations(this.db, migrations);
    } else {
      // The same on SQLite, where the lock is the database's write lock, taken for the whole migration.
      await this.db.connection().execute((connection) => immediateTransaction(connection, (db) => runMigrations(db, migrations, true)));
    }
    const row = await this.db.selectFrom('restaurant').select('profile').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('the bookings database has no restaurant profile');
    this.profile = JSON.parse(row.profile) as RestaurantProfile;
    this.firstSeatingMinute = parseClockTime(this.profile.firstSeating) ?? 0;
    this.lastSeatingMinute = parseClockTime(this.profile.lastSeating) ?? 0;
  }
}

/**
 * One SQLite connection per database file in a process, shared by every store on it. better-sqlite3 waits for
 * another connection's lock synchronously, blocking the event loop; two connections of one process would wait
 * on each other for the whole busy timeout and fail. Sharing one, Kysely's mutex queues this process's
 * transactions, and the file lock (with BUSY_TIMEOUT_MS) only arbitrates between processes.
 */
const sqliteFiles = new Map<string, { db: Db; users: number }>();

function sharedSqlite(dataDir: string): Db {
  const file = resolve(dataDir, DATABASE_FILE_NAME);
  const shared = sqliteFiles.get(file);
  if (shared !== undefined) {
    shared.users += 1;
    return shared.db;
  }
  mkdirSync(dataDir, { recursive: true });
  const database = openDatabase(file, { timeout: BUSY_TIMEOUT_MS });
  database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
  const db = new Kysely<BookingsSchema>({ dialect: new SqliteDialect({ database: statementCache(database) }) });
  sqliteFiles.set(file, { db, users: 1 });
  return db;
}

async function releaseSqlite(db: Db): Promise<void> {
  for (const [file, shared] of sqliteFiles) {
    if (shared.db !== db) continue;
    shared.users -= 1;
    if (shared.users > 0) return;
    sqliteFiles.delete(file);
    await db.destroy();
    return;
  }
}

async function immediateTransaction<T>(connection: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  await sql`BEGIN IMMEDIATE`.execute(connection);
  try {
    const result = await work(connection);
    await sql`COMMIT`.execute(connection);
    return result;
  } catch (error) {
    await sql`ROLLBACK`.execute(connection).catch(() => undefined);
    throw error;
  }
}

async function runMigrations(db: Db, migrations: Record<string, Migration>, disableTransactions = false): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) }, disableTransactions });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) throw error;
}

/** The smallest table that fits the party and has no confirmed booking overlapping the time (with `ignoreOverlaps`, for a cancelled seed booking: the smallest that fits). */
function freeTableQuery(db: Db, date: string, start: number, end: number, partySize: number, ignoreOverlaps: boolean) {
  return db
    .selectFrom('dining_tables as t')
    .select('t.id')
    .where('t.seats', '>=', partySize)
    .$if(!ignoreOverlaps, (query) =>
      query.where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('bookings as b')
              .select(sql`1`.as('one'))
              .whereRef('b.table_id', '=', 't.id')
              .where('b.status', '=', 'confirmed')
              .where('b.date', '=', date)
              .where('b.start_minute', '<', end)
              .where('b.end_minute', '>', start),
          ),
        ),
      ),
    )
    .orderBy('t.seats')
    .orderBy('t.id')
    .limit(1);
}

async function newCode(db: Db): Promise<string> {
  for (;;) {
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    if ((await db.selectFrom('bookings').select('code').where('code', '=', code).executeTakeFirst()) === undefined) return code;
  }
}

/** The digits a caller presses to type `code` on a phone keypad (K7Q2M9 → 577269). */
export function keypadDigits(code: string): string {
  return [...code.toUpperCase()].map((char) => KEYPAD[char] ?? char).join('');
}

function toBooking(row: BookingRow): Booking {
  return {
    code: row.code,
    guestName: row.guest_name,
    phone: row.phone,
    partySize: row.party_size,
    date: row.date,
    startMinute: row.start_minute,
    tableId: row.table_id,
    status: row.status,
    notes: row.notes ?? undefined,
    createdAt: row.created_at,
  };
}

/** Postgres error codes (SQLSTATE classes 08 and 57P, 53300) and socket errors that mean "the database is not there right now". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '53300', '57P01', '57P02', '57P03', 'SQLITE_BUSY']);

/** Whether an error means the database could not be reached or was busy, rather than a mistake in a query. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof BookingSystemUnavailableError) return true;
  const err = error as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|the database system is (starting up|shutting down)/i.test(message)) return true;
  // An AggregateError (several addresses refused).
  return Array.isArray(err?.errors) && err.errors.some(isUnavailable);
}

function unavailable(error: unknown): unknown {
  return isUnavailable(error) && !(error instanceof BookingSystemUnavailableError) ? new BookingSystemUnavailableError(error) : error;
}

/**
 * The schema, as Kysely migrations in code (applied in name order, each once, recorded in `kysely_migration`).
 * Add a migration for every change; never edit one that has shipped.
 */
/** `today`: the restaurant's date when the seed runs, which the seed's relative dates count from. */
export function bookingMigrations(dialect: DatabaseDialect, seed: Seed, today: () => string): Record<string, Migration> {
  return {
    '0001_schema': {
      async up(anyDb: Kysely<any>) {
        const db = anyDb as Db;
        if (dialect === 'sqlite' && (await adoptLegacySqlite(db))) return;
        await db.schema
          .createTable('restaurant')
          .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
          .addColumn('profile', 'text', (col) => col.notNull())
          .execute();
        await db.schema
          .createTable('dining_tables')
          .addColumn('id', 'text', (col) => col.primaryKey())
          .addColumn('seats', 'integer', (col) => col.notNull().check(sql`seats > 0`))
          .execute();
        await db.schema
          .createTable('bookings')
          .addColumn('code', 'text', (col) => col.primaryKey())
          .addColumn('keypad_digits', 'text', (col) => col.notNull())
          .addColumn('guest_name', 'text', (col) => col.notNull())
          .addColumn('phone', 'text', (col) => col.notNull())
          .addColumn('party_size', 'integer', (col) => col.notNull().check(sql`party_size > 0`))
          .addColumn('date', 'text', (col) => col.notNull())
          .addColumn('start_minute', 'integer', (col) => col.notNull().check(sql`start_minute >= 0`))
          .addColumn('end_minute', 'integer', (col) => col.notNull())
          .addColumn('table_id', 'text', (col) => col.notNull().references('dining_tables.id'))
          .addColumn('status', 'text', (col) => col.notNull().check(sql`status IN ('confirmed', 'cancelled')`))
          .addColumn('notes', 'text')
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addColumn('cancelled_at', 'text')
          .addCheckConstraint('bookings_end_after_start', sql`end_minute > start_minute`)
          .execute();
        await db.schema.createIndex('bookings_by_phone').on('bookings').columns(['phone', 'date']).execute();
        await db.schema.createIndex('bookings_by_keypad').on('bookings').column('keypad_digits').execute();
        await db.schema.createIndex('bookings_by_table_day').on('bookings').columns(['table_id', 'date']).execute();
        // The database itself refuses two confirmed bookings of one table at overlapping times, whatever
        // process or code path writes; the store's transactions make sure it never has to.
        if (dialect === 'postgres') {
          await sql`CREATE EXTENSION IF NOT EXISTS btree_gist`.execute(db);
          await sql`ALTER TABLE bookings ADD CONSTRAINT bookings_table_free EXCLUDE USING gist
            (table_id WITH =, date WITH =, int4range(start_minute, end_minute) WITH &&) WHERE (status = 'confirmed')`.execute(db);
        } else {
          await sql`CREATE TRIGGER bookings_table_free_on_insert BEFORE INSERT ON bookings
            WHEN NEW.status = 'confirmed' AND EXISTS (
              SELECT 1 FROM bookings b WHERE b.table_id = NEW.table_id AND b.status = 'confirmed' AND b.date = NEW.date
                AND b.start_minute < NEW.end_minute AND NEW.start_minute < b.end_minute)
            BEGIN SELECT RAISE(ABORT, 'table already booked at that time'); END`.execute(db);
          await sql`CREATE TRIGGER bookings_table_free_on_update BEFORE UPDATE OF status, table_id, date, start_minute, end_minute ON bookings
            WHEN NEW.status = 'confirmed' AND EXISTS (
              SELECT 1 FROM bookings b WHERE b.code <> NEW.code AND b.table_id = NEW.table_id AND b.status = 'confirmed' AND b.date = NEW.date
                AND b.start_minute < NEW.end_minute AND NEW.start_minute < b.end_minute)
            BEGIN SELECT RAISE(ABORT, 'table already booked at that time'); END`.execute(db);
        }
      },
    },
    '0002_seed': {
      async up(anyDb: Kysely<any>) {
        const db = anyDb as Db;
        // A database from before the migrations (adopted by 0001) was seeded then.
        if ((await db.selectFrom('restaurant').select('id').executeTakeFirst()) !== undefined) return;
        await seedDatabase(db, seed, today());
      },
    },
  };
}

/**
 * A SQLite file made by the earlier, hand-written schema (`PRAGMA user_version = 1`, the same tables and
 * triggers as 0001) is taken over as it is, bookings included.
 */
async function adoptLegacySqlite(db: Db): Promise<boolean> {
  const { rows } = await sql<{ user_version: number }>`PRAGMA user_version`.execute(db);
  const version = rows[0]?.user_version ?? 0;
  if (version === 0) return false;
  if (version !== 1) throw new Error(`bookings database has schema version ${version}; this build knows version 1`);
  return true;
}

async function seedDatabase(db: Db, { restaurant, bookings }: Seed, today: string): Promise<void> {
  await db.insertInto('restaurant').values({ id: 1, profile: JSON.stringify(restaurant) }).execute();
  await db.insertInto('dining_tables').values(restaurant.tables.map((table) => ({ id: table.id, seats: table.seats }))).execute();
  const createdAt = new Date().toISOString();
  for (const booking of bookings) {
    const date = seedBookingDate(booking, today, restaurant.closedOn);
    const startMinute = parseClockTime(booking.time) as number;
    const endMinute = startMinute + restaurant.seatingMinutes;
    const table = await freeTableQuery(db, date, startMinute, endMinute, booking.partySize, booking.status === 'cancelled').executeTakeFirst();
    if (table === undefined) throw new Error(`seed booking ${booking.code}: no table for ${booking.partySize} on ${date} at ${booking.time}`);
    await db
      .insertInto('bookings')
      .values({
        code: booking.code,
        keypad_digits: keypadDigits(booking.code),
        guest_name: booking.guestName,
        phone: booking.phone,
        party_size: booking.partySize,
        date,
        start_minute: startMinute,
        end_minute: endMinute,
        table_id: table.id,
        status: booking.status,
        notes: booking.notes ?? null,
        created_at: createdAt,
        cancelled_at: null,
      })
      .execute();
  }
}

/** A seed booking's date: fixed, or `inDays` after `today` and on to the next day the restaurant is open. */
export function seedBookingDate(booking: Pick<SeedBooking, 'inDays' | 'date'>, today: string, closedOn: readonly Weekday[]): string {
  if (booking.inDays === undefined) return booking.date as string;
  let date = addDays(today, booking.inDays);
  for (let day = 0; day < 7 && closedOn.includes(weekdayOf(date)); day++) date = addDays(date, 1);
  return date;
}

/** Reads and checks the seed file; a broken fixture stops start-up with the problems named. */
function readSeed(file: string): Seed {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { restaurant?: RestaurantProfile; bookings?: SeedBooking[] };
  const problems: string[] = [];
  const restaurant = data.restaurant;
  if (restaurant === undefined) throw new Error(`${file}: no "restaurant"`);
  if (parseClockTime(restaurant.firstSeating) === undefined || parseClockTime(restaurant.lastSeating) === undefined) {
    problems.push('firstSeating and lastSeating must be HH:MM');
  }
  if (!(restaurant.slotMinutes > 0) || !(restaurant.seatingMinutes > 0) || !(restaurant.bookingWindowDays > 0)) {
    problems.push('slotMinutes, seatingMinutes and bookingWindowDays must be positive');
  }
  if (!restaurant.closedOn.every((day) => (WEEKDAYS as readonly string[]).includes(day))) problems.push('closedOn must list weekday names');
  if (restaurant.tables.length === 0) problems.push('there must be at least one table');
  for (const booking of data.bookings ?? []) {
    const label = `booking ${booking.code}`;
    if (!/^[23456789A-HJKMNP-Z]{6}$/.test(booking.code)) problems.push(`${label}: code must be 6 characters of ${CODE_ALPHABET}`);
    if (booking.inDays === undefined ? !isCalendarDate(booking.date ?? '') : booking.date !== undefined || !(Number.isInteger(booking.inDays) && booking.inDays >= 0)) {
      problems.push(`${label}: give inDays (a whole number of days from the first start) or date (YYYY-MM-DD), not both`);
    }
    if (parseClockTime(booking.time) === undefined) problems.push(`${label}: time must be HH:MM`);
    if (!/^\+[1-9]\d{1,14}$/.test(booking.phone)) problems.push(`${label}: phone must be E.164`);
    if (booking.status !== 'confirmed' && booking.status !== 'cancelled') problems.push(`${label}: status must be confirmed or cancelled`);
  }
  if (problems.length > 0) throw new Error(`${file} is not a valid seed:\n  - ${problems.join('\n  - ')}`);
  return { restaurant, bookings: data.bookings ?? [] };
}

