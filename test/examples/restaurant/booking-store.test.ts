import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BookingStore, DATABASE_FILE_NAME, keypadDigits } from '../../../examples/restaurant/booking-store.js';
import { addDays, spokenDateTime, weekdayOf } from '../../../examples/restaurant/restaurant-time.js';
import { openDatabase, prepare } from '../../../examples/restaurant/sqlite.js';

/** Saturday, November 21 2026, noon at the restaurant (America/Los_Angeles). */
const NOW = new Date('2026-11-21T20:00:00Z');
const dirs: string[] = [];

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bookings-'));
  dirs.push(dir);
  return dir;
}

function open(dataDir: string, now: Date = NOW): BookingStore {
  return BookingStore.open({ dataDir, timeZone: 'America/Los_Angeles', now: () => now });
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('BookingStore seed', () => {
  it('creates the database under DATA_DIR on first start, seeded from examples/restaurant/seed.json', () => {
    const dir = join(freshDir(), 'nested', 'data');
    const store = open(dir);
    expect(existsSync(join(dir, DATABASE_FILE_NAME))).toBe(true);
    const booking = store.findByCode('K7Q2M9');
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
    store.close();
  });

  it('finds a code typed on a phone keypad', () => {
    const store = open(freshDir());
    expect(keypadDigits('K7Q2M9')).toBe('577269');
    expect(store.findByKeypadDigits('577269').map((b) => b.code)).toEqual(['K7Q2M9']);
    expect(store.findByKeypadDigits('000000')).toEqual([]);
    store.close();
  });

  it("lists a caller's upcoming confirmed bookings by phone number, not cancelled or past ones", () => {
    const store = open(freshDir());
    expect(store.upcomingForPhone('+14155550123').map((b) => b.code)).toEqual(['K7Q2M9']); // W6Y9C4 is cancelled
    store.close();
    const later = open(dirs[0]!, new Date('2026-12-06T20:00:00Z'));
    expect(later.upcomingForPhone('+14155550123')).toEqual([]);
    later.close();
  });
});

describe('BookingStore persistence', () => {
  it('keeps bookings and cancellations across a restart, and never seeds twice', () => {
    const dir = freshDir();
    const store = open(dir);
    const created = store.create({ guestName: 'Ana Lima', phone: '+14155550188', partySize: 2, date: '2026-12-10', startMinute: 18 * 60 });
    expect(created.kind).toBe('booked');
    const code = created.kind === 'booked' ? created.booking.code : '';
    expect(store.cancel('K7Q2M9').kind).toBe('cancelled');
    store.close();

    const reopened = BookingStore.open({ dataDir: dir, timeZone: 'America/Los_Angeles', now: () => NOW, seedFile: join(dir, 'no-such-seed.json') });
    expect(reopened.findByCode(code)).toMatchObject({ guestName: 'Ana Lima', partySize: 2, date: '2026-12-10', status: 'confirmed' });
    expect(reopened.findByCode('K7Q2M9')?.status).toBe('cancelled');
    expect(reopened.findByKeypadDigits('577269')).toHaveLength(1);
    reopened.close();
  });
});

describe('BookingStore rules', () => {
  it('refuses closed days, hours, off-slot times, the past, too far ahead and too many people', () => {
    const store = open(freshDir());
    expect(store.checkRules('2026-12-07', 19 * 60, 2)).toBe('The restaurant is closed on Mondays.');
    expect(store.checkRules('2026-12-05', 16 * 60, 2)).toBe('Tables can be booked from 5 PM to 9 PM.');
    expect(store.checkRules('2026-12-05', 21 * 60 + 15, 2)).toBe('Tables can be booked from 5 PM to 9 PM.');
    expect(store.checkRules('2026-12-05', 19 * 60 + 10, 2)).toMatch(/every 15 minutes/);
    expect(store.checkRules('2026-11-20', 19 * 60, 2)).toBe('That time has already passed: it is now Saturday, November 21, noon at the restaurant.');
    expect(store.checkRules(addDays('2026-11-21', 181), 19 * 60, 2)).toMatch(/180 days ahead/);
    expect(store.checkRules('2026-12-05', 19 * 60, 9)).toMatch(/largest table seats 8/);
    expect(store.checkRules('2026-02-30', 19 * 60, 2)).toMatch(/not a date/);
    expect(store.checkRules('2026-11-21', 19 * 60, 2)).toBeUndefined(); // tonight
    store.close();
  });

  it('books the smallest free table and offers the nearest free times when full', () => {
    const store = open(freshDir());
    // 2026-12-31 at 20:00: the only 8-top (T11) is taken by the seed (P2V7X3).
    expect(store.hasFreeTable('2026-12-31', 20 * 60, 8)).toBe(false);
    expect(store.hasFreeTable('2026-12-31', 20 * 60, 6)).toBe(true);
    const result = store.create({ guestName: 'Big Group', phone: '+14155550111', partySize: 8, date: '2026-12-31', startMinute: 20 * 60 });
    expect(result).toEqual({ kind: 'full', alternatives: [18 * 60, 17 * 60 + 45, 17 * 60 + 30] }); // 22:00+ is past the last seating
    const small = store.create({ guestName: 'Two', phone: '+14155550112', partySize: 2, date: '2026-12-31', startMinute: 20 * 60 });
    expect(small.kind === 'booked' && small.booking.tableId).toBe('T1');
    store.close();
  });

  it('returns the existing booking when the same request comes twice', () => {
    const store = open(freshDir());
    const request = { guestName: 'Retry', phone: '+14155550113', partySize: 3, date: '2026-12-12', startMinute: 19 * 60 };
    const first = store.create(request);
    const second = store.create(request);
    expect(first.kind).toBe('booked');
    expect(second.kind).toBe('duplicate');
    expect(second.kind === 'duplicate' && first.kind === 'booked' && second.booking.code).toBe(first.kind === 'booked' && first.booking.code);
    store.close();
  });

  it('cancels once, and refuses to cancel what has started or does not exist', () => {
    const store = open(freshDir());
    expect(store.cancel('K7Q2M9')).toMatchObject({ kind: 'cancelled', booking: { status: 'cancelled' } });
    expect(store.cancel('K7Q2M9').kind).toBe('already-cancelled');
    expect(store.cancel('NOPE42').kind).toBe('not-found');
    store.close();
    const afterwards = open(freshDir(), new Date('2026-12-06T04:00:00Z')); // Dec 5, 8 PM local: R4T8W2 started at 7
    expect(afterwards.cancel('R4T8W2').kind).toBe('past');
    afterwards.close();
  });

  it('the database itself refuses a second confirmed booking of a table at an overlapping time', () => {
    const dir = freshDir();
    open(dir).close();
    const db = openDatabase(join(dir, DATABASE_FILE_NAME), {});
    const insert = () =>
      prepare(
        db,
        `INSERT INTO bookings (code, keypad_digits, guest_name, phone, party_size, date, start_minute, end_minute, table_id, status, created_at)
         VALUES ('ZZZZZZ', '999999', 'Sneaky', '+14155550100', 8, '2026-12-31', 1230, 1350, 'T11', 'confirmed', 'now')`,
      ).run();
    expect(insert).toThrow(/table already booked/);
    db.close();
  });
});

describe('BookingStore concurrency', () => {
  it('gives the last table to exactly one of many simultaneous bookings in one process', () => {
    const store = open(freshDir());
    const attempts = Array.from({ length: 5 }, (_, i) =>
      store.create({ guestName: `Guest ${i}`, phone: `+1415555020${i}`, partySize: 8, date: '2026-12-12', startMinute: 19 * 60 }),
    );
    expect(attempts.filter((r) => r.kind === 'booked')).toHaveLength(1);
    expect(attempts.filter((r) => r.kind === 'full')).toHaveLength(4);
    store.close();
  });

  it('never double-books a table when separate processes book the same slots at once', async () => {
    const dataDir = freshDir();
    open(dataDir).close(); // created and seeded once; the contenders only open it
    // The one 8-top at 5, 7 and 9 PM (two-hour seatings, no overlap) on every open day for 20 weeks, from
    // 2026-12-01: each process tries to take every one of them, so they collide hundreds of times.
    const slots = Array.from({ length: 140 }, (_, day) => addDays('2026-12-01', day))
      .filter((date) => weekdayOf(date) !== 'Monday' && date !== '2026-12-31')
      .flatMap((date) => [17, 19, 21].map((hour) => ({ date, startMinute: hour * 60, partySize: 8 })));
    const contenders = Array.from({ length: 4 }, () =>
      fork(join(import.meta.dirname, 'booking-contender.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const ready = contenders.map((child, i) => {
      child.send({ dataDir, nowIso: NOW.toISOString(), phone: `+1415555030${i}`, slots });
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
    const store = open(dataDir);
    for (const slot of slots) expect(store.hasFreeTable(slot.date, slot.startMinute, 8)).toBe(false);
    store.close();
  }, 30_000);
});
