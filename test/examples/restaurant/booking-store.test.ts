import { fork } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BookingStore, DATABASE_FILE_NAME, DEFAULT_SEED_FILE, keypadDigits, seedBookingDate } from '../../../examples/restaurant/booking-store.js';
import { addDays, spokenDateTime, weekdayOf } from '../../../examples/restaurant/restaurant-time.js';
import { openDatabase, prepare } from '../../../examples/restaurant/sqlite.js';
import { postgresBackend, sqliteBackend, type Backend, type Location } from './booking-backends.js';

/** Saturday, November 21 2026, noon at the restaurant (America/Los_Angeles). */
const NOW = new Date('2026-11-21T20:00:00Z');

const backends: Backend[] = [sqliteBackend(), postgresBackend()];
afterAll(async () => {
  for (const backend of backends) await backend.stop();
});

describe.each(backends)('BookingStore on $name', (backend) => {
  const stores: BookingStore[] = [];
  async function open(location: Location, now: Date = NOW, seedFile?: string): Promise<BookingStore> {
    const store = await BookingStore.open({ ...location, timeZone: 'America/Los_Angeles', now: () => now, ...(seedFile === undefined ? {} : { seedFile }) });
    stores.push(store);
    return store;
  }
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    backend.cleanUp();
  });

  describe('seed', () => {
    it('creates the database on first start, seeded from examples/restaurant/seed.json', async () => {
      const location = await backend.fresh();
      if (location.dataDir !== undefined) location.dataDir = join(location.dataDir, 'nested', 'data');
      const store = await open(location);
      if (location.dataDir !== undefined) expect(existsSync(join(location.dataDir, DATABASE_FILE_NAME))).toBe(true);
      const booking = await store.findByCode('K7Q2M9');
      expect(booking).toMatchObject({
        code: 'K7Q2M9',
        guestName: 'Dana Whitfield',
        phone: '+14155550123',
        partySize: 4,
        date: '2026-12-05',
        startMinute: 19 * 60 + 30,
        status: 'confirmed',
      });
      expect(spokenDateTime(booking!.date, booking!.startMinute)).toBe('Saturday, December 5 at 7:30 PM');
      expect(store.profile.name).toBe('The Blue Door');
      expect(store.largestTable).toBe(8);
    });

    it('finds a code typed on a phone keypad', async () => {
      const store = await open(await backend.fresh());
      expect(keypadDigits('K7Q2M9')).toBe('577269');
      expect((await store.findByKeypadDigits('577269')).map((b) => b.code)).toEqual(['K7Q2M9']);
      expect(await store.findByKeypadDigits('000000')).toEqual([]);
    });

    it("lists a caller's upcoming confirmed bookings by phone number, not cancelled or past ones", async () => {
      const location = await backend.fresh();
      const store = await open(location);
      expect((await store.upcomingForPhone('+14155550123')).map((b) => b.code)).toEqual(['K7Q2M9']); // W6Y9C4 is cancelled
      const later = await open(location, new Date('2026-12-06T20:00:00Z'));
      expect(await later.upcomingForPhone('+14155550123')).toEqual([]);
    });

    it('two stores starting together on an empty database migrate and seed it once', async () => {
      const location = await backend.fresh();
      const [a, b, c] = await Promise.all([open(location), open(location), open(location)]);
      expect((await a!.findByKeypadDigits('577269')).map((booking) => booking.code)).toEqual(['K7Q2M9']);
      expect(await b!.findByCode('K7Q2M9')).toBeDefined();
      expect(c!.profile.name).toBe('The Blue Door');
    });
  });

  describe('persistence', () => {
    it('keeps bookings and cancellations across a restart, and never seeds twice', async () => {
      const location = await backend.fresh();
      const store = await open(location);
      const created = await store.create({ guestName: 'Ana Lima', phone: '+14155550188', partySize: 2, date: '2026-12-10', startMinute: 18 * 60 });
      expect(created.kind).toBe('booked');
      const code = created.kind === 'booked' ? created.booking.code : '';
      expect((await store.cancel('K7Q2M9')).kind).toBe('cancelled');
      await store.close();

      // Reopened with a different seed (another restaurant name, Dana's booking again): nothing of it is applied.
      const seed = JSON.parse(readFileSync(DEFAULT_SEED_FILE, 'utf8')) as { restaurant: { name: string } };
      seed.restaurant.name = 'Not Seeded Twice';
      const otherSeed = join((await sqliteBackend().fresh()).dataDir!, 'seed.json');
      writeFileSync(otherSeed, JSON.stringify(seed));
      const reopened = await open(location, NOW, otherSeed);
      expect(reopened.profile.name).toBe('The Blue Door'); // the database's, once it is reached
      expect(await reopened.findByCode(code)).toMatchObject({ guestName: 'Ana Lima', partySize: 2, date: '2026-12-10', status: 'confirmed' });
      expect((await reopened.findByCode('K7Q2M9'))?.status).toBe('cancelled');
      expect(await reopened.findByKeypadDigits('577269')).toHaveLength(1);
    });
  });

  describe('rules', () => {
    it('refuses closed days, hours, off-slot times, the past, too far ahead and too many people', async () => {
      const store = await open(await backend.fresh());
      expect(store.checkRules('2026-12-07', 19 * 60, 2)).toBe('The restaurant is closed on Mondays.');
      expect(store.checkRules('2026-12-05', 16 * 60, 2)).toBe('Tables can be booked from 5 PM to 9 PM.');
      expect(store.checkRules('2026-12-05', 21 * 60 + 15, 2)).toBe('Tables can be booked from 5 PM to 9 PM.');
      expect(store.checkRules('2026-12-05', 19 * 60 + 10, 2)).toMatch(/every 15 minutes/);
      expect(store.checkRules('2026-11-20', 19 * 60, 2)).toBe('That time has already passed: it is now Saturday, November 21, noon at the restaurant.');
      expect(store.checkRules(addDays('2026-11-21', 181), 19 * 60, 2)).toMatch(/180 days ahead/);
      expect(store.checkRules('2026-12-05', 19 * 60, 9)).toMatch(/largest table seats 8/);
      expect(store.checkRules('2026-02-30', 19 * 60, 2)).toMatch(/not a date/);
      expect(store.checkRules('2026-11-21', 19 * 60, 2)).toBeUndefined(); // tonight
    });

    it('books the smallest free table and offers the nearest free times when full', async () => {
      const store = await open(await backend.fresh());
      // 2026-12-31 at 20:00: the only 8-top (T11) is taken by the seed (P2V7X3).
      expect(await store.hasFreeTable('2026-12-31', 20 * 60, 8)).toBe(false);
      expect(await store.hasFreeTable('2026-12-31', 20 * 60, 6)).toBe(true);
      const result = await store.create({ guestName: 'Big Group', phone: '+14155550111', partySize: 8, date: '2026-12-31', startMinute: 20 * 60 });
      expect(result).toEqual({ kind: 'full', alternatives: [18 * 60, 17 * 60 + 45, 17 * 60 + 30] }); // 22:00+ is past the last seating
      const small = await store.create({ guestName: 'Two', phone: '+14155550112', partySize: 2, date: '2026-12-31', startMinute: 20 * 60 });
      expect(small.kind === 'booked' && small.booking.tableId).toBe('T1');
    });

    it('returns the existing booking when the same request comes twice', async () => {
      const store = await open(await backend.fresh());
      const request = { guestName: 'Retry', phone: '+14155550113', partySize: 3, date: '2026-12-12', startMinute: 19 * 60 };
      const first = await store.create(request);
      const second = await store.create(request);
      expect(first.kind).toBe('booked');
      expect(second.kind).toBe('duplicate');
      expect(second.kind === 'duplicate' && first.kind === 'booked' && second.booking.code).toBe(first.kind === 'booked' && first.booking.code);
    });

    it('cancels once, and refuses to cancel what has started or does not exist', async () => {
      const location = await backend.fresh();
      const store = await open(location);
      expect(await store.cancel('K7Q2M9')).toMatchObject({ kind: 'cancelled', booking: { status: 'cancelled' } });
      expect((await store.cancel('K7Q2M9')).kind).toBe('already-cancelled');
      expect((await store.cancel('NOPE42')).kind).toBe('not-found');
      const afterwards = await open(location, new Date('2026-12-06T04:00:00Z')); // Dec 5, 8 PM local: R4T8W2 started at 7
      expect((await afterwards.cancel('R4T8W2')).kind).toBe('past');
    });

    it('dates the sample bookings from the first start, on days the restaurant is open, so they lie ahead', async () => {
      // Seeded on Sunday, December 20: K7Q2M9 comes 14 days later, a Sunday; a Monday (closed) moves to the Tuesday.
      const store = await open(await backend.fresh(), new Date('2026-12-20T20:00:00Z'));
      expect(await store.findByCode('K7Q2M9')).toMatchObject({ date: '2027-01-03', startMinute: 19 * 60 + 30 });
      expect(await store.upcomingForPhone('+14155550123')).toMatchObject([{ code: 'K7Q2M9' }]);
      expect(seedBookingDate({ inDays: 1 }, '2026-12-20', ['Monday'])).toBe('2026-12-22');
      expect(seedBookingDate({ date: '2026-12-21' }, '2026-12-20', ['Monday'])).toBe('2026-12-21');
    });

    it('the database itself refuses a second confirmed booking of a table at an overlapping time', async () => {
      const location = await backend.fresh();
      await (await open(location)).close();
      const insert = `INSERT INTO bookings (code, keypad_digits, guest_name, phone, party_size, date, start_minute, end_minute, table_id, status, created_at)
         VALUES ('ZZZZZZ', '999999', 'Sneaky', '+14155550100', 8, '2026-12-31', 1230, 1350, 'T11', 'confirmed', 'now')`;
      if (location.dataDir !== undefined) {
        const db = openDatabase(join(location.dataDir, DATABASE_FILE_NAME), {});
        expect(() => prepare(db, insert).run()).toThrow(/table already booked/);
        db.close();
      } else {
        const client = new pg.Client({ connectionString: location.databaseUrl });
        await client.connect();
        await expect(client.query(insert)).rejects.toThrow(/bookings_table_free/);
        await client.end();
      }
    });
  });

  describe('concurrency', () => {
    it('gives the last table to exactly one of many simultaneous bookings in one process', async () => {
      const store = await open(await backend.fresh());
      const attempts = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.create({ guestName: `Guest ${i}`, phone: `+1415555020${i}`, partySize: 8, date: '2026-12-12', startMinute: 19 * 60 }),
        ),
      );
      expect(attempts.filter((r) => r.kind === 'booked')).toHaveLength(1);
      expect(attempts.filter((r) => r.kind === 'full')).toHaveLength(4);
    });

    it('never double-books a table when separate processes book the same slots at once', async () => {
      const location = await backend.fresh();
      await (await open(location)).close(); // created and seeded once; the contenders only open it
      // The one 8-top at 5, 7 and 9 PM (two-hour seatings, no overlap) on every open day for 10 weeks, from
      // 2026-12-01: each process tries to take every one of them, so they collide hundreds of times.
      const slots = Array.from({ length: 70 }, (_, day) => addDays('2026-12-01', day))
        .filter((date) => weekdayOf(date) !== 'Monday' && date !== '2026-12-31')
        .flatMap((date) => [17, 19, 21].map((hour) => ({ date, startMinute: hour * 60, partySize: 8 })));
      const contenders = Array.from({ length: 4 }, () =>
        fork(join(import.meta.dirname, 'booking-contender.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      );
      const ready = contenders.map((child, i) => {
        child.send({ location, nowIso: NOW.toISOString(), phone: `+1415555030${i}`, slots });
        return new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`contender exited early (${code})`)));
        });
      });
      await Promise.all(ready);
      const results = contenders.map(
        (child) => new Promise<string[]>((resolve) => child.once('message', (message) => resolve((message as { results: string[] }).results))),
      );
      for (const child of contenders) child.send('go');
      const all = await Promise.all(results);

      for (let slot = 0; slot < slots.length; slot++) {
        const outcomes = all.map((perProcess) => perProcess[slot]);
        const label = `${slots[slot]!.date} ${slots[slot]!.startMinute / 60}:00: ${outcomes.join(', ')}`;
        expect(outcomes.filter((o) => o === 'booked:T11'), label).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'full'), label).toHaveLength(3);
      }
      const store = await open(location);
      for (const slot of slots) expect(await store.hasFreeTable(slot.date, slot.startMinute, 8)).toBe(false);
    }, 60_000);
  });
});

describe('BookingStore on SQLite: an existing database', () => {
  it('takes over a database made by the earlier hand-written schema (user_version 1) with its bookings', async () => {
    const backend = sqliteBackend();
    const { dataDir } = await backend.fresh();
    // The earlier store's schema and seed, made here with plain SQL as it did.
    const fresh = await BookingStore.open({ dataDir: join(dataDir!, 'new'), timeZone: 'America/Los_Angeles', now: () => NOW });
    await fresh.close();
    const db = openDatabase(join(dataDir!, 'new', DATABASE_FILE_NAME), {});
    db.exec('DROP TABLE kysely_migration; DROP TABLE kysely_migration_lock; PRAGMA user_version = 1;');
    db.close();
    copyFileSync(join(dataDir!, 'new', DATABASE_FILE_NAME), join(dataDir!, DATABASE_FILE_NAME));
    const store = await BookingStore.open({ dataDir: dataDir!, timeZone: 'America/Los_Angeles', now: () => NOW });
    expect(await store.findByCode('K7Q2M9')).toMatchObject({ guestName: 'Dana Whitfield' });
    expect((await store.create({ guestName: 'Ana', phone: '+14155550188', partySize: 2, date: '2026-12-10', startMinute: 18 * 60 })).kind).toBe('booked');
    await store.close();
    backend.cleanUp();
  });
});
