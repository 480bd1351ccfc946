import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BookingStore } from '../../../examples/restaurant/booking-store.js';
import { CallGuard, MAX_FAILED_ATTEMPTS, restaurantBriefing, restaurantTools } from '../../../examples/restaurant/booking-tools.js';
import type { ToolAnswer } from '../../../src/model/realtime-model.js';
import { ToolDispatcher } from '../../../src/tools/dispatcher.js';
import { ToolRegistry } from '../../../src/tools/tool.js';
import { capturingLogger } from '../../support/log-capture.js';
import { postgresBinDir, startPostgresServer, type PostgresServer } from '../../support/postgres-server.js';
import { spawnServer, waitUntilReady, type SpawnedServer } from '../../support/servers/process.js';

/** Saturday, November 21 2026, noon at the restaurant. */
const NOW = new Date('2026-11-21T20:00:00Z');

let dir: string;
let store: BookingStore;
let guard: CallGuard;
const CALL_A = `CA${'2'.repeat(32)}`;
const CALL_B = `CA${'3'.repeat(32)}`;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'booking-tools-'));
  store = await BookingStore.open({ dataDir: dir, timeZone: 'America/Los_Angeles', now: () => NOW });
  guard = new CallGuard();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one function call through the real dispatcher and returns the response body. */
/** `callerNumber` null: the caller withheld their number. */
async function call(
  name: string,
  args: Record<string, unknown>,
  callerNumber: string | null = '+14155550123',
  callSid = CALL_A,
  tools = restaurantTools(store, guard),
): Promise<ToolAnswer['response']> {
  const { log } = capturingLogger();
  const sent: ToolAnswer[] = [];
  const dispatcher = new ToolDispatcher({
    tools: new ToolRegistry(tools),
    call: {
      callSid,
      direction: 'inbound',
      from: callerNumber ?? 'anonymous',
      to: '+16505550199',
      callerNumber: callerNumber ?? undefined,
      agent: 'restaurant',
      finishAfterReply: () => true,
    },
    log,
    send: (response) => sent.push(response),
    defaultTimeoutMs: 1_000,
  });
  dispatcher.dispatch([{ id: 'function-call-1', name, args }]);
  await vi.waitFor(() => expect(sent).toHaveLength(1), { timeout: 5_000, interval: 5 });
  return sent[0]!.response;
}

const DANA = {
  confirmationCode: 'K7Q2M9',
  spelledOut: 'K 7 Q 2 M 9',
  guestName: 'Dana Whitfield',
  partySize: 4,
  when: 'Saturday, December 5 at 7:30 PM',
  date: '2026-12-05',
  time: '19:30',
  status: 'confirmed',
};

describe('find_booking', () => {
  it('finds a booking by its code, spoken or typed on the keypad', async () => {
    expect(await call('find_booking', { code: 'K7Q2M9' })).toEqual({ output: { found: true, booking: DANA } });
    expect(await call('find_booking', { code: 'k7q 2m9' })).toEqual({ output: { found: true, booking: DANA } });
    expect(await call('find_booking', { code: '577269' })).toEqual({ output: { found: true, booking: DANA } });
  });

  it("without a code or a name, only says how many upcoming bookings the caller's number has: caller ID can be spoofed", async () => {
    const response = await call('find_booking', {});
    expect(response).toEqual({ output: { found: true, count: 1, message: expect.stringMatching(/one upcoming reservation .*ask for the confirmation code or the name/) } });
    expect(JSON.stringify(response)).not.toMatch(/K7Q2M9|Dana|Whitfield|December|19:30/);
    expect(await call('find_booking', {}, '+14155550999')).toEqual({ output: { found: false, message: expect.stringMatching(/Ask for the confirmation code/) } });
    expect(await call('find_booking', {}, null)).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/withheld/) }) });
    expect(await call('find_booking', { guest_name: 'Dana Whitfield' }, null)).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/withheld/) }) });
  });

  it("with the name it was booked under, reads out the caller's booking from their number", async () => {
    expect(await call('find_booking', { guest_name: 'Dana Whitfield' })).toEqual({ output: { found: true, bookings: [DANA] } });
    expect(await call('find_booking', { guest_name: 'whitfield' })).toEqual({ output: { found: true, bookings: [DANA] } });
    // A first name alone is too easy to guess; a name from another number finds nothing.
    expect(await call('find_booking', { guest_name: 'Dana' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/^No upcoming reservation from this number is under that name/) }) });
    expect(await call('find_booking', { guest_name: 'Dana Whitfield' }, '+14155550999')).toMatchObject({ error: expect.objectContaining({ message: expect.stringMatching(/under that name/) }) });
  });

  it('says so when no booking has the code', async () => {
    expect(await call('find_booking', { code: 'XXXXXX' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/^No reservation has the code X X X X X X/) }) });
  });

  it(`stops lookups and cancellations on a call after ${MAX_FAILED_ATTEMPTS} wrong codes or names, keypad included; other calls are not affected`, async () => {
    expect(await call('find_booking', { code: '123456' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/2 more attempts on this call/) }) });
    expect(await call('find_booking', { guest_name: 'Somebody Else' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/1 more attempt on this call/) }) });
    expect(await call('find_booking', { code: 'XXXXXX' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/That was the last attempt/) }) });
    // Now even the right code is refused on this call: guessing cannot go on.
    expect(await call('find_booking', { code: '577269' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/^Too many wrong confirmation codes or names on this call/) }) });
    expect(await call('cancel_booking', { code: 'K7Q2M9', guest_name: 'Dana Whitfield' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/^Too many wrong/) }) });
    expect(guard.size).toBe(1);
    // Another call starts afresh; the ended call's state is dropped.
    expect(await call('find_booking', { code: '577269' }, '+14155550123', CALL_B)).toEqual({ output: { found: true, booking: DANA } });
    guard.forget(CALL_A);
    expect(guard.size).toBe(0);
    expect(await call('find_booking', { code: '577269' })).toEqual({ output: { found: true, booking: DANA } });
  });

  it('forgets a call it never hears the end of, after a few hours', () => {
    let now = 0;
    const clocked = new CallGuard(1, () => now);
    clocked.fail(CALL_A);
    expect(() => clocked.check(CALL_A)).toThrow(/Too many wrong/);
    now += 5 * 60 * 60 * 1000;
    expect(() => clocked.check(CALL_A)).not.toThrow();
    expect(clocked.size).toBe(0);
  });
});

describe('check_availability', () => {
  it('reports a free table with the time spoken naturally', async () => {
    expect(await call('check_availability', { date: '2026-12-05', time: '18:00', party_size: 2 })).toEqual({
      output: { available: true, when: 'Saturday, December 5 at 6 PM', partySize: 2 },
    });
  });

  it('offers the nearest free times when every fitting table is taken', async () => {
    const response = await call('check_availability', { date: '2026-12-31', time: '20:00', party_size: 8 });
    expect(response).toEqual({
      output: {
        available: false,
        when: 'Thursday, December 31 at 8 PM',
        reason: 'Every table for 8 is taken then.',
        alternatives: [
          { when: 'Thursday, December 31 at 6 PM', date: '2026-12-31', time: '18:00' },
          { when: 'Thursday, December 31 at 5:45 PM', date: '2026-12-31', time: '17:45' },
          { when: 'Thursday, December 31 at 5:30 PM', date: '2026-12-31', time: '17:30' },
        ],
      },
    });
  });

  it('explains the house rules and refuses impossible dates', async () => {
    expect(await call('check_availability', { date: '2026-12-07', time: '19:00', party_size: 2 })).toMatchObject({
      output: { available: false, reason: 'The restaurant is closed on Mondays.', alternatives: [] },
    });
    expect(await call('check_availability', { date: '2026-02-30', time: '19:00', party_size: 2 })).toEqual({ error: expect.objectContaining({ message: '2026-02-30 is not a date on the calendar.' }) });
    expect(await call('check_availability', { date: 'next friday', time: '7pm', party_size: 20 })).toEqual({
      error: expect.objectContaining({ message: expect.stringMatching(/date is not in the expected format.*time is not in the expected format.*party_size must be at most 8/) }),
    });
  });
});

describe('create_booking', () => {
  it("books under the caller's number and gives back the code to read out", async () => {
    const response = await call('create_booking', { guest_name: 'Ana Lima', party_size: 3, date: '2026-12-12', time: '19:15' });
    const booking = (response as { output: { booked: true; booking: typeof DANA } }).output.booking;
    expect(response).toMatchObject({ output: { booked: true, booking: { guestName: 'Ana Lima', partySize: 3, when: 'Saturday, December 12 at 7:15 PM' } } });
    expect(booking.confirmationCode).toMatch(/^[23456789A-HJKMNP-Z]{6}$/);
    expect(booking.spelledOut).toBe([...booking.confirmationCode].join(' '));
    expect(await store.findByCode(booking.confirmationCode)).toMatchObject({ phone: '+14155550123', status: 'confirmed' });
    // Asked again (a retry), the same booking comes back rather than a second table.
    expect(await call('create_booking', { guest_name: 'Ana Lima', party_size: 3, date: '2026-12-12', time: '19:15' })).toMatchObject({
      output: { booked: true, alreadyExisted: true, booking: { confirmationCode: booking.confirmationCode } },
    });
  });

  it('uses a callback number the caller gives, and needs one when theirs is withheld', async () => {
    const response = await call('create_booking', { guest_name: 'Sam', party_size: 2, date: '2026-12-12', time: '18:00', phone: '+1 (510) 555-0144' }, null);
    const code = (response as { output: { booking: { confirmationCode: string } } }).output.booking.confirmationCode;
    expect((await store.findByCode(code))?.phone).toBe('+15105550144');
    expect(await call('create_booking', { guest_name: 'Sam', party_size: 2, date: '2026-12-12', time: '18:00' }, null)).toEqual({
      error: expect.objectContaining({ message: expect.stringMatching(/ask for a callback number/) }),
    });
  });

  it('does not book the past, and offers other times when full', async () => {
    expect(await call('create_booking', { guest_name: 'Late', party_size: 2, date: '2026-11-20', time: '19:00' })).toMatchObject({
      output: { booked: false, reason: expect.stringMatching(/already passed/) },
    });
    expect(await call('create_booking', { guest_name: 'Big', party_size: 8, date: '2026-12-31', time: '20:00' })).toMatchObject({
      output: { booked: false, reason: 'Every table for 8 is taken then.', alternatives: [{ time: '18:00' }, { time: '17:45' }, { time: '17:30' }] },
    });
  });
});

describe('cancel_booking', () => {
  it('cancels with the code and the name, once, then says it already is', async () => {
    expect(await call('cancel_booking', { code: '577269', guest_name: 'Dana Whitfield' })).toEqual({ output: { cancelled: true, booking: { ...DANA, status: 'cancelled' } } });
    expect(await call('cancel_booking', { code: 'K7Q2M9', guest_name: 'dana whitfield' })).toMatchObject({ output: { cancelled: false, reason: 'This reservation was already cancelled.' } });
    expect(await store.upcomingForPhone('+14155550123')).toEqual([]);
  });

  it('needs both: a code with the wrong name cancels nothing and does not say which was wrong', async () => {
    expect(await call('cancel_booking', { code: 'K7Q2M9' })).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/guest_name is required|guest_name/) }) });
    expect(await call('cancel_booking', { code: 'K7Q2M9', guest_name: 'Mallory Smith' })).toEqual({
      error: expect.objectContaining({ message: expect.stringMatching(/^That code and name do not match a reservation, so nothing was cancelled/) }),
    });
    expect((await store.findByCode('K7Q2M9'))?.status).toBe('confirmed');
  });
});

describe('restaurantBriefing', () => {
  it("tells the model the restaurant, today's date in its time zone and the booking rules", async () => {
    const text = await restaurantBriefing(store);
    expect(text).toContain('The Blue Door');
    expect(text).toContain('it is now Saturday, November 21, 2026, noon (date 2026-11-21)');
    expect(text).toContain('from 17:00 to 21:00 every 15 minutes, for up to 8 people');
    expect(text).toContain('closed on Mondays');
    expect(text).toContain('phone number is not proof');
  });
});

describe('on Postgres, when the database server stops and comes back', () => {
  let postgres: PostgresServer;
  let pgStore: BookingStore;
  let restarted: SpawnedServer | undefined;
  let dataDirectory: string;

  beforeAll(async () => {
    postgres = await startPostgresServer();
    pgStore = await BookingStore.open({ databaseUrl: await postgres.createDatabase('outage'), timeZone: 'America/Los_Angeles', now: () => NOW });
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    dataDirectory = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
    await client.end();
  }, 60_000);
  afterAll(async () => {
    await pgStore?.close();
    if (restarted !== undefined) await stopPostmaster(dataDirectory);
    await postgres?.close();
  });

  /** Fast shutdown of the running server (whichever process started it), waiting until it is gone. */
  async function stopPostmaster(dir: string): Promise<void> {
    const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGINT');
    await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(), { timeout: 15_000, interval: 50 });
  }

  it('the tools answer that the booking system is unavailable, nothing crashes, and they work again once it is back', async () => {
    const tools = restaurantTools(pgStore, new CallGuard());
    expect(await call('find_booking', { code: 'K7Q2M9' }, '+14155550123', CALL_A, tools)).toEqual({ output: { found: true, booking: DANA } });

    await stopPostmaster(dataDirectory);
    for (const [name, args] of [
      ['find_booking', { code: 'K7Q2M9' }],
      ['check_availability', { date: '2026-12-05', time: '18:00', party_size: 2 }],
      ['create_booking', { guest_name: 'Ana Lima', party_size: 2, date: '2026-12-12', time: '18:00' }],
    ] as const) {
      expect(await call(name, args, '+14155550123', CALL_A, tools), name).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/^The booking system is unavailable right now/) }) });
    }
    // Failures of the database are not wrong codes: the caller's attempts are untouched.
    expect(await call('find_booking', { code: '577269' }, '+14155550123', CALL_A, tools)).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/unavailable/) }) });

    // Started again on the same port and data: the pool connects afresh by itself.
    const port = postgres.port;
    const asRoot = userInfo().uid === 0;
    const args = ['-D', dataDirectory, '-p', String(port), '-k', dirname(dataDirectory), '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'];
    const binary = join(postgresBinDir(), 'postgres');
    restarted = asRoot ? spawnServer('runuser', ['-u', 'postgres', '--', binary, ...args]) : spawnServer(binary, args);
    await waitUntilReady('postgres', restarted, async () => {
      const client = new pg.Client({ connectionString: postgres.url, connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    });
    expect(await call('find_booking', { code: 'K7Q2M9' }, '+14155550123', CALL_A, tools)).toEqual({ output: { found: true, booking: DANA } });
    expect(await call('create_booking', { guest_name: 'Ana Lima', party_size: 2, date: '2026-12-12', time: '18:00' }, '+14155550123', CALL_A, tools)).toMatchObject({
      output: { booked: true },
    });
  }, 60_000);
});
