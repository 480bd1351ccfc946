/**
 * The fleet's bookings (issue #12 requirement 9): two real instances (child processes, src/main.ts) running the
 * restaurant example agent (examples/restaurant/agent.ts) behind the real HAProxy with the committed configuration,
 * sharing a real Redis and one real Postgres (DATABASE_URL, a fresh database; each instance its own DATA_DIR).
 * Twilio is the fake call; the fake Gemini Live session stands in for the model and issues the booking tool calls,
 * so the tools run for real on each instance against the shared database.
 *
 * - Two callers, one on each instance, book the only table that seats 8 (seed.json: T11) for the same slot at the
 *   same moment: exactly one gets the table, the other hears it is taken (with other times), and Postgres holds one
 *   booking for it.
 * - Postgres stopped mid-call: the booking tool answers that the booking system is unavailable, and the call goes
 *   on (the model's next turns reach the caller).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { FunctionResponse } from '@google/genai';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UNAVAILABLE_ANSWER } from '../../examples/restaurant/booking-tools.js';
import type { FakeReply, FakeSession } from '../fakes/gemini-live/server.js';
import { FakeTwilioCall } from '../fakes/twilio/call.js';
import { loadSpeechFixture } from '../fakes/twilio/fixtures.js';
import { TEST_AUTH_TOKEN } from '../fakes/twilio/ids.js';
import type { FakeTwilioMediaStream } from '../fakes/twilio/media-stream.js';
import { FLEET_PUBLIC_URL, RESTAURANT_AGENT_FILE, fleetGeminiOptions, startFleet, streamInstance, type Fleet } from '../support/fleet.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';

const IDS = ['agent-1', 'agent-2'];
const GREETING = 'The Blue Door, how can I help?';
const ANSWER = 'Of course, one moment.';
/** Two different callers (a same-number, same-slot request would be a retried booking, answered as the first). */
const CALLERS = ['+14155550141', '+14155550142'];
/** Only one table of the seed seats 8 (T11); 19:00 is on the 15-minute grid between first and last seating. */
const PARTY = 8;
const TIME = '19:00';

let postgres: PostgresServer;
let databaseUrl: string;
let fleet: Fleet;
const calls: FakeTwilioCall[] = [];

/**
 * A bookable day: a week or more ahead (within the 180-day window), not a Monday (closed) and not a day the seed
 * already has bookings on. The restaurant runs on UTC here, so "today" is the test's own.
 */
function bookableDate(): string {
  const seed = JSON.parse(readFileSync(new URL('../../examples/restaurant/seed.json', import.meta.url), 'utf8')) as { bookings: { date: string }[] };
  const taken = new Set(seed.bookings.map((b) => b.date));
  for (let days = 7; ; days++) {
    const day = new Date(Date.now() + days * 86_400_000);
    const date = day.toISOString().slice(0, 10);
    if (day.getUTCDay() !== 1 && !taken.has(date)) return date;
  }
}
const DATE = bookableDate();

beforeAll(async () => {
  postgres = await startPostgresServer();
  databaseUrl = await postgres.createDatabase('fleet_bookings');
  fleet = await startFleet({
    env: { AGENT: RESTAURANT_AGENT_FILE, DATABASE_URL: databaseUrl, RESTAURANT_TIME_ZONE: 'UTC' },
    gemini: { ...fleetGeminiOptions(), replies: ({ source }) => ({ text: source === 'text' ? GREETING : ANSWER }) },
  });
  // One call per instance, at once: each process compiles its call path on its first call (start-up cost, not
  // what is checked below), and both reach the fresh database together (it is migrated and seeded once).
  const warm = await Promise.all(IDS.map(() => dial()));
  expect(new Set(warm.map((call) => streamInstance(call.streams[0]!.twiml.streamUrl)))).toEqual(new Set(IDS));
  await Promise.all(warm.map((call) => call.stream!.waitForAgentAudio({ timeoutMs: 15_000 })));
  await Promise.all(warm.map((call) => call.hangUp()));
}, 60_000);

afterAll(async () => {
  await fleet?.close();
  await postgres?.close();
}, 30_000);

afterEach(async () => {
  await Promise.all(calls.splice(0).map((call) => call.hangUp()));
});

async function dial(from?: string): Promise<FakeTwilioCall> {
  const call = await FakeTwilioCall.dial({
    serverUrl: fleet.proxy.url,
    publicUrl: FLEET_PUBLIC_URL,
    authToken: TEST_AUTH_TOKEN,
    restApi: fleet.rest,
    ...(from === undefined ? {} : { params: { From: from } }),
  });
  calls.push(call);
  return call;
}

const agentBytes = (stream: FakeTwilioMediaStream): number => stream.receivedMedia.reduce((total, m) => total + m.bytes.length, 0);

/** The session has spoken its greeting and is idle: a tool call sent now goes out after the model's thinking time. */
const greeted = (session: FakeSession): Promise<void> => session.waitUntil((s) => s.modelTurns.length >= 1 && !s.isModelTurnActive, 10_000);

/** The model's turn after its tool results: what it says depends on them, as a real model's would. */
function spokenAfterTools(say: (response: unknown) => string): FakeReply {
  return { text: '', afterToolResponses: (responses: FunctionResponse[]) => ({ text: say(responses[0]?.response) }) };
}

interface CreateBookingAnswer {
  output?: { booked?: boolean; reason?: string; alternatives?: { time: string }[]; booking?: { confirmationCode: string; partySize: number; date: string; time: string } };
  error?: string;
}

describe('the restaurant agent on two instances with one Postgres', () => {
  it('two callers on two instances book the last table for 8 at the same moment: one booking, the other hears the table is taken', async () => {
    const sessionsBefore = fleet.gemini.sessions.length;
    // Twilio places both calls at once; the proxy sends their webhooks round-robin, one to each instance.
    const dialed = await Promise.all(CALLERS.map((from) => dial(from)));
    expect(new Set(dialed.map((call) => streamInstance(call.streams[0]!.twiml.streamUrl)))).toEqual(new Set(IDS));
    await Promise.all(dialed.map((call) => call.stream!.waitForAgentAudio({ timeoutMs: 10_000 })));
    const sessions = await Promise.all([0, 1].map((i) => fleet.gemini.waitForSession(sessionsBefore + i, 10_000)));
    await Promise.all(sessions.map(greeted));

    // Both models call create_booking in the same instant, for the same slot and party size.
    const heardBefore = dialed.map((call) => agentBytes(call.stream!));
    const sentAt = performance.now();
    sessions.forEach((session, i) =>
      session.sendToolCall(
        [{ name: 'create_booking', args: { guest_name: `Guest ${i + 1}`, party_size: PARTY, date: DATE, time: TIME } }],
        spokenAfterTools((r) => ((r as CreateBookingAnswer | undefined)?.output?.booked === true ? 'You are booked.' : 'Sorry, that table is taken.')),
      ),
    );
    const answeredAfterMs = await Promise.all(
      sessions.map(async (session) => {
        await session.waitUntil((s) => s.toolResponses.length >= 1, 10_000);
        return performance.now() - sentAt;
      }),
    );
    const answers = sessions.map((session) => session.toolResponses[0]!.response.response as unknown as CreateBookingAnswer);
    console.log(`create_booking at the same moment on ${IDS.join(' and ')}: answered after ${answeredAfterMs.map((ms) => ms.toFixed(0)).join(' and ')} ms`);

    const booked = answers.filter((a) => a.output?.booked === true);
    const refused = answers.filter((a) => a.output?.booked === false);
    expect(booked).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(booked[0]!.output!.booking).toMatchObject({ partySize: PARTY, date: DATE, time: TIME });
    expect(refused[0]!.output!.reason).toMatch(/taken/);
    expect(refused[0]!.output!.alternatives!.length).toBeGreaterThan(0);
    expect(refused[0]!.output!.alternatives!.map((a) => a.time)).not.toContain(TIME);

    // The database: one confirmed booking of the 8-seat table that day, the one the winner was told about.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ code: string; phone: string; table_id: string; party_size: number; start_minute: number }>(
        "SELECT code, phone, table_id, party_size, start_minute FROM bookings WHERE date = $1 AND status = 'confirmed'",
        [DATE],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ code: booked[0]!.output!.booking!.confirmationCode, table_id: 'T11', party_size: PARTY, start_minute: 19 * 60 });
      expect(CALLERS).toContain(rows[0]!.phone);
      const { rows: fromCallers } = await client.query('SELECT code FROM bookings WHERE phone = ANY($1)', [CALLERS]);
      expect(fromCallers).toHaveLength(1);
    } finally {
      await client.end();
    }

    // Each caller hears the model's answer, and both calls are still up.
    await Promise.all(dialed.map((call, i) => call.stream!.waitFor((s) => agentBytes(s) > heardBefore[i]!, 10_000, 'the answer after the tool result')));
    for (const call of dialed) {
      expect(call.stream!.isOpen).toBe(true);
      expect(call.errors).toEqual([]);
      expect(call.streamCount).toBe(1);
    }
  }, 30_000);

  it('Postgres stopped mid-call: create_booking answers that the booking system is unavailable, and the call goes on', async () => {
    const sessionsBefore = fleet.gemini.sessions.length;
    const call = await dial(CALLERS[0]);
    const stream = call.stream!;
    const session = await fleet.gemini.waitForSession(sessionsBefore, 10_000);
    await stream.waitForAgentAudio({ timeoutMs: 10_000 });
    await greeted(session);

    await postgres.close();
    const heardBefore = agentBytes(stream);
    const sentAt = performance.now();
    session.sendToolCall(
      [{ name: 'create_booking', args: { guest_name: 'Guest 3', party_size: 2, date: DATE, time: '17:00' } }],
      spokenAfterTools(() => 'Sorry, our booking system is down right now. May I take a message?'),
    );
    await session.waitUntil((s) => s.toolResponses.length >= 1, 10_000);
    const answeredAfterMs = performance.now() - sentAt;
    console.log(`create_booking with Postgres stopped: answered after ${answeredAfterMs.toFixed(0)} ms`);
    expect(session.toolResponses[0]!.response.response).toEqual({ error: expect.objectContaining({ message: UNAVAILABLE_ANSWER }) });

    // The model's turn after the tool answer reaches the caller.
    await stream.waitFor((s) => agentBytes(s) > heardBefore, 10_000, 'the apology after the tool answer');
    await stream.waitForPlayoutIdle(10_000);
    await session.waitUntil((s) => !s.isModelTurnActive, 10_000);
    // The caller speaks again and is answered: the stream and the model session are still up.
    const beforeTurn = agentBytes(stream);
    await stream.playCallerAudio(loadSpeechFixture('short-hello'));
    await stream.waitFor((s) => agentBytes(s) > beforeTurn, 10_000, 'the answer to the caller');
    expect(session.modelTurns.at(-1)!.reply.text).toBe(ANSWER);
    expect(stream.isOpen).toBe(true);
    expect(session.isOpen).toBe(true);
    expect(call.streamCount).toBe(1);
    expect(call.errors).toEqual([]);
    expect(call.endInfo).toBeUndefined();
  }, 30_000);
});
