import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  WEEKDAYS,
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
import { openDatabase, prepare, type SqliteDatabase, type SqliteStatement } from './sqlite.js';

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
  /** The database lives in `<dataDir>/restaurant.sqlite`; the directory is created if missing. */
  dataDir: string;
  /** IANA zone of the restaurant: decides what "now" is there. */
  timeZone: string;
  /** Seed read once, when the database is created. */
  seedFile?: string;
  now?: () => Date;
}

export const DEFAULT_SEED_FILE = fileURLToPath(new URL('./seed.json', import.meta.url));
export const DATABASE_FILE_NAME = 'restaurant.sqlite';
const SCHEMA_VERSION = 1;
/** How long a writer waits for another connection's transaction before giving up. */
const BUSY_TIMEOUT_MS = 5_000;
/** Confirmation codes avoid characters that sound or look alike (0/O, 1/I/L). */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_LENGTH = 6;
const KEYPAD: Record<string, string> = {
  A: '2', B: '2', C: '2', D: '3', E: '3', F: '3', G: '4', H: '4', I: '4', J: '5', K: '5', L: '5',
  M: '6', N: '6', O: '6', P: '7', Q: '7', R: '7', S: '7', T: '8', U: '8', V: '8', W: '9', X: '9', Y: '9', Z: '9',
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS restaurant (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    profile TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS dining_tables (
    id TEXT PRIMARY KEY,
    seats INTEGER NOT NULL CHECK (seats > 0)
  );
  CREATE TABLE IF NOT EXISTS bookings (
    code TEXT PRIMARY KEY,
    keypad_digits TEXT NOT NULL,
    guest_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    party_size INTEGER NOT NULL CHECK (party_size > 0),
    date TEXT NOT NULL,
    start_minute INTEGER NOT NULL CHECK (start_minute >= 0),
    end_minute INTEGER NOT NULL CHECK (end_minute > start_minute),
    table_id TEXT NOT NULL REFERENCES dining_tables (id),
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    notes TEXT,
    created_at TEXT NOT NULL,
    cancelled_at TEXT
  );
  CREATE INDEX IF NOT EXISTS bookings_by_phone ON bookings (phone, date);
  CREATE INDEX IF NOT EXISTS bookings_by_keypad ON bookings (keypad_digits);
  CREATE INDEX IF NOT EXISTS bookings_by_table_day ON bookings (table_id, date) WHERE status = 'confirmed';

  -- The database itself refuses two confirmed bookings of one table at overlapping times, whatever
  -- process or code path writes; the store's transactions make sure it never has to.
  CREATE TRIGGER IF NOT EXISTS bookings_table_free_on_insert BEFORE INSERT ON bookings
  WHEN NEW.status = 'confirmed' AND EXISTS (
    SELECT 1 FROM bookings b WHERE b.table_id = NEW.table_id AND b.status = 'confirmed' AND b.date = NEW.date
      AND b.start_minute < NEW.end_minute AND NEW.start_minute < b.end_minute)
  BEGIN SELECT RAISE(ABORT, 'table already booked at that time'); END;
  CREATE TRIGGER IF NOT EXISTS bookings_table_free_on_update BEFORE UPDATE OF status, table_id, date, start_minute, end_minute ON bookings
  WHEN NEW.status = 'confirmed' AND EXISTS (
    SELECT 1 FROM bookings b WHERE b.code <> NEW.code AND b.table_id = NEW.table_id AND b.status = 'confirmed' AND b.date = NEW.date
      AND b.start_minute < NEW.end_minute AND NEW.start_minute < b.end_minute)
  BEGIN SELECT RAISE(ABORT, 'table already booked at that time'); END;
`;

interface BookingRow {
  code: string;
  guest_name: string;
  phone: string;
  party_size: number;
  date: string;
  start_minute: number;
  table_id: string;
  status: BookingStatus;
  notes: string | null;
  created_at: string;
}

interface SeedBooking {
  code: string;
  guestName: string;
  phone: string;
  partySize: number;
  date: string;
  time: string;
  status: BookingStatus;
  notes?: string;
}

/**
 * The restaurant's reservations in an embedded SQLite database. Every change is one transaction
 * that takes the write lock before it reads (`BEGIN IMMEDIATE`), so a table seen free is still free
 * when it is booked, even with several processes on one database file.
 */
export class BookingStore {
  readonly profile: RestaurantProfile;
  private readonly firstSeatingMinute: number;
  private readonly lastSeatingMinute: number;
  private readonly statements: Statements;

  private constructor(
    private readonly db: SqliteDatabase,
    readonly timeZone: string,
    private readonly clock: () => Date,
  ) {
    const row = prepare<[], { profile: string }>(db, 'SELECT profile FROM restaurant WHERE id = 1').get();
    if (row === undefined) throw new Error('the bookings database has no restaurant profile');
    this.profile = JSON.parse(row.profile) as RestaurantProfile;
    this.firstSeatingMinute = parseClockTime(this.profile.firstSeating) ?? 0;
    this.lastSeatingMinute = parseClockTime(this.profile.lastSeating) ?? 0;
    this.statements = prepareStatements(db);
  }

  /** Opens (creating and seeding on first start) the database under `dataDir`. */
  static open(options: BookingStoreOptions): BookingStore {
    mkdirSync(options.dataDir, { recursive: true });
    const db = openDatabase(join(options.dataDir, DATABASE_FILE_NAME), { timeout: BUSY_TIMEOUT_MS });
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
      initialize(db, options.seedFile ?? DEFAULT_SEED_FILE);
      return new BookingStore(db, options.timeZone, options.now ?? (() => new Date()));
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
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
  hasFreeTable(date: string, startMinute: number, partySize: number): boolean {
    return this.freeTable(date, startMinute, partySize) !== undefined;
  }

  /** Up to `count` bookable start times on the same day, nearest to the asked time first. */
  alternatives(date: string, startMinute: number, partySize: number, count = 3): number[] {
    const slots: number[] = [];
    for (let minute = this.firstSeatingMinute; minute <= this.lastSeatingMinute; minute += this.profile.slotMinutes) {
      if (minute !== startMinute) slots.push(minute);
    }
    slots.sort((a, b) => Math.abs(a - startMinute) - Math.abs(b - startMinute) || a - b);
    return slots.filter((minute) => this.checkRules(date, minute, partySize) === undefined && this.hasFreeTable(date, minute, partySize)).slice(0, count);
  }

  /** Books the smallest free table that fits, atomically; a retried identical request returns the first booking. */
  create(request: NewBooking): CreateResult {
    const reason = this.checkRules(request.date, request.startMinute, request.partySize);
    if (reason !== undefined) return { kind: 'refused', reason };
    const book = this.db.transaction((): CreateResult => {
      const same = this.statements.sameBooking.get(request.phone, request.date, request.startMinute, request.partySize);
      if (same !== undefined) return { kind: 'duplicate', booking: toBooking(same) };
      const tableId = this.freeTable(request.date, request.startMinute, request.partySize);
      if (tableId === undefined) return { kind: 'full', alternatives: [] };
      const code = this.newCode();
      insertBooking(this.statements.insert, {
        code,
        guestName: request.guestName,
        phone: request.phone,
        partySize: request.partySize,
        date: request.date,
        startMinute: request.startMinute,
        endMinute: request.startMinute + this.profile.seatingMinutes,
        tableId,
        status: 'confirmed',
        notes: request.notes ?? null,
        createdAt: this.clock().toISOString(),
      });
      return { kind: 'booked', booking: toBooking(this.statements.byCode.get(code) as BookingRow) };
    });
    const result = book.immediate();
    if (result.kind === 'full') return { kind: 'full', alternatives: this.alternatives(request.date, request.startMinute, request.partySize) };
    return result;
  }

  findByCode(code: string): Booking | undefined {
    const row = this.statements.byCode.get(code);
    return row === undefined ? undefined : toBooking(row);
  }

  /** Bookings whose code, typed on a phone keypad (letters as their digit), gives these digits. */
  findByKeypadDigits(digits: string): Booking[] {
    return this.statements.byKeypad.all(digits).map(toBooking);
  }

  /** Confirmed bookings from today on for this phone number, soonest first. */
  upcomingForPhone(phone: string): Booking[] {
    const now = this.now();
    return this.statements.byPhoneFrom
      .all(phone, now.date)
      .map(toBooking)
      .filter((booking) => booking.date > now.date || booking.startMinute > now.minute);
  }

  cancel(code: string): CancelResult {
    const cancel = this.db.transaction((): CancelResult => {
      const row = this.statements.byCode.get(code);
      if (row === undefined) return { kind: 'not-found' };
      const booking = toBooking(row);
      if (booking.status === 'cancelled') return { kind: 'already-cancelled', booking };
      if (this.hasStarted(booking)) return { kind: 'past', booking };
      this.statements.cancel.run(this.clock().toISOString(), code);
      return { kind: 'cancelled', booking: { ...booking, status: 'cancelled' } };
    });
    return cancel.immediate();
  }

  hasStarted(booking: Booking): boolean {
    const now = this.now();
    return booking.date < now.date || (booking.date === now.date && booking.startMinute <= now.minute);
  }

  private freeTable(date: string, startMinute: number, partySize: number): string | undefined {
    return this.statements.freeTable.get({ date, start: startMinute, end: startMinute + this.profile.seatingMinutes, partySize })?.id;
  }

  private newCode(): string {
    for (;;) {
      let code = '';
      for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
      if (this.statements.byCode.get(code) === undefined) return code;
    }
  }
}

function prepareStatements(db: SqliteDatabase) {
  return {
    freeTable: prepare<{ date: string; start: number; end: number; partySize: number }, { id: string }>(db, `
      SELECT t.id FROM dining_tables t
      WHERE t.seats >= @partySize AND NOT EXISTS (
        SELECT 1 FROM bookings b WHERE b.table_id = t.id AND b.status = 'confirmed' AND b.date = @date
          AND b.start_minute < @end AND @start < b.end_minute)
      ORDER BY t.seats, t.id LIMIT 1`),
    byCode: prepare<[string], BookingRow>(db, 'SELECT * FROM bookings WHERE code = ?'),
    byKeypad: prepare<[string], BookingRow>(db, 'SELECT * FROM bookings WHERE keypad_digits = ? ORDER BY date, start_minute'),
    byPhoneFrom: prepare<[string, string], BookingRow>(db, 
      "SELECT * FROM bookings WHERE phone = ? AND date >= ? AND status = 'confirmed' ORDER BY date, start_minute",
    ),
    sameBooking: prepare<[string, string, number, number], BookingRow>(db, 
      "SELECT * FROM bookings WHERE phone = ? AND date = ? AND start_minute = ? AND party_size = ? AND status = 'confirmed'",
    ),
    insert: prepare(db, `
      INSERT INTO bookings (code, keypad_digits, guest_name, phone, party_size, date, start_minute, end_minute, table_id, status, notes, created_at)
      VALUES (@code, @keypadDigits, @guestName, @phone, @partySize, @date, @startMinute, @endMinute, @tableId, @status, @notes, @createdAt)`),
    cancel: prepare<[string, string]>(db, "UPDATE bookings SET status = 'cancelled', cancelled_at = ? WHERE code = ?"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

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

interface BookingInsert {
  code: string;
  guestName: string;
  phone: string;
  partySize: number;
  date: string;
  startMinute: number;
  endMinute: number;
  tableId: string;
  status: BookingStatus;
  notes: string | null;
  createdAt: string;
}

function insertBooking(statement: SqliteStatement, booking: BookingInsert): void {
  statement.run({ ...booking, keypadDigits: keypadDigits(booking.code) });
}

/**
 * Creates the schema and seeds it, once. Two processes starting together on an empty directory
 * serialize on the write lock; the second finds the work done.
 */
function initialize(db: SqliteDatabase, seedFile: string): void {
  const userVersion = prepare<[], number>(db, 'PRAGMA user_version').pluck();
  const version = (): number => userVersion.get() as number;
  if (version() === SCHEMA_VERSION) return;
  db.transaction(() => {
    const found = version();
    if (found === SCHEMA_VERSION) return;
    if (found !== 0) throw new Error(`bookings database has schema version ${found}; this build knows version ${SCHEMA_VERSION}`);
    db.exec(SCHEMA);
    seed(db, readSeed(seedFile));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function seed(db: SqliteDatabase, data: { restaurant: RestaurantProfile; bookings: SeedBooking[] }): void {
  const { restaurant } = data;
  prepare(db, 'INSERT INTO restaurant (id, profile) VALUES (1, ?)').run(JSON.stringify(restaurant));
  const addTable = prepare(db, 'INSERT INTO dining_tables (id, seats) VALUES (?, ?)');
  for (const table of restaurant.tables) addTable.run(table.id, table.seats);

  const insert = prepare(db, `
    INSERT INTO bookings (code, keypad_digits, guest_name, phone, party_size, date, start_minute, end_minute, table_id, status, notes, created_at)
    VALUES (@code, @keypadDigits, @guestName, @phone, @partySize, @date, @startMinute, @endMinute, @tableId, @status, @notes, @createdAt)`);
  const freeTable = prepare<{ date: string; start: number; end: number; partySize: number; status: string }, { id: string }>(db, `
    SELECT t.id FROM dining_tables t
    WHERE t.seats >= @partySize AND (@status = 'cancelled' OR NOT EXISTS (
      SELECT 1 FROM bookings b WHERE b.table_id = t.id AND b.status = 'confirmed' AND b.date = @date
        AND b.start_minute < @end AND @start < b.end_minute))
    ORDER BY t.seats, t.id LIMIT 1`);
  const createdAt = new Date().toISOString();
  for (const booking of data.bookings) {
    const startMinute = parseClockTime(booking.time) as number;
    const endMinute = startMinute + restaurant.seatingMinutes;
    const table = freeTable.get({ date: booking.date, start: startMinute, end: endMinute, partySize: booking.partySize, status: booking.status });
    if (table === undefined) throw new Error(`seed booking ${booking.code}: no table for ${booking.partySize} on ${booking.date} at ${booking.time}`);
    insertBooking(insert, {
      code: booking.code,
      guestName: booking.guestName,
      phone: booking.phone,
      partySize: booking.partySize,
      date: booking.date,
      startMinute,
      endMinute,
      tableId: table.id,
      status: booking.status,
      notes: booking.notes ?? null,
      createdAt,
    });
  }
}

/** Reads and checks the seed file; a broken fixture stops start-up with the problems named. */
function readSeed(file: string): { restaurant: RestaurantProfile; bookings: SeedBooking[] } {
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
    if (!isCalendarDate(booking.date) || parseClockTime(booking.time) === undefined) problems.push(`${label}: date/time must be YYYY-MM-DD and HH:MM`);
    if (!/^\+[1-9]\d{1,14}$/.test(booking.phone)) problems.push(`${label}: phone must be E.164`);
    if (booking.status !== 'confirmed' && booking.status !== 'cancelled') problems.push(`${label}: status must be confirmed or cancelled`);
  }
  if (problems.length > 0) throw new Error(`${file} is not a valid seed:\n  - ${problems.join('\n  - ')}`);
  return { restaurant, bookings: data.bookings ?? [] };
}

