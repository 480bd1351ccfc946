import type { FunctionDeclaration, Tool } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BookingStore, seedBookingDate } from '../../examples/restaurant/booking-store.js';
import { addDays, localNow, spokenDateTime, weekdayOf } from '../../examples/restaurant/restaurant-time.js';
import { DEFAULT_CUES, KEYPAD_TEXT_PREFIX } from '../../src/agents/agent.js';
import { dialTwiml } from '../../src/telephony/twilio-rest.js';
import type { FakeReply, FakeSession } from '../fakes/gemini-live/server.js';
import { startFakeTwilioRestApi, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type FakeTwilioMediaStream, type FakeTwilioRestApi } from '../fakes/twilio/index.js';
import { restaurantGreetingCue, sleep, startBridge, type Bridge } from '../support/bridge-harness.js';

const GREETING = 'Blue Door, how can I help?';
const GOODBYE = 'Thank you for calling the Blue Door. Goodbye!';
const TRANSFER_NUMBER = '+14155550199';
const DANA_NUMBER = '+14155550123';

/**
 * The model's side of the script: greet when cued; when keypad digits arrive as text, look the booking up
 * with them (as the real model would), then speak.
 */
function script({ heardText }: { heardText?: string }): FakeReply | undefined {
  if (heardText === restaurantGreetingCue()) return { text: GREETING };
  if (heardText?.startsWith(KEYPAD_TEXT_PREFIX)) {
    const digits = heardText.slice(KEYPAD_TEXT_PREFIX.length).replace(/\s/g, '');
    return { text: 'I found it.', toolCalls: [{ name: 'find_booking', args: { code: digits } }] };
  }
  return undefined;
}

/** A date a week or more ahead on which the restaurant is open, in its own time zone. */
function openDayAhead(): string {
  let date = addDays(localNow('America/Los_Angeles', new Date()).date, 8);
  while (weekdayOf(date) === 'Monday') date = addDays(date, 1);
  return date;
}

interface PlacedCall {
  callSid: string;
  twilio: FakeTwilioMediaStream;
  session: FakeSession;
}

async function placeCall(bridge: Bridge, rest: FakeTwilioRestApi, from = DANA_NUMBER): Promise<PlacedCall> {
  const sessionIndex = bridge.gemini.sessions.length;
  const { callSid, twiml } = await bridge.ringWebhook({ From: from, Caller: from });
  rest.addCall({ sid: callSid, from }); // Twilio knows the call once it rings
  const twilio = await bridge.openStream(callSid, twiml);
  const session = await bridge.gemini.waitForSession(sessionIndex);
  await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
  await twilio.waitForPlayoutIdle(10_000);
  return { callSid, twilio, session };
}

/** The function declarations of a session's setup, as the Live server received them. */
function declaredFunctions(session: FakeSession): FunctionDeclaration[] {
  return ((session.setup?.tools ?? []) as Tool[]).flatMap((tool) => tool.functionDeclarations ?? []);
}

function responseTo(session: FakeSession, id: string) {
  return session.toolResponses.find((record) => record.response.id === id)?.response;
}

describe('tools through the running server', () => {
  let rest: FakeTwilioRestApi;
  let bridge: Bridge;

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
    bridge = await startBridge({
      // Speech generated a little slower than real time: turnComplete then comes with the last audio still
      // playing at Twilio, so hanging up at turnComplete would cut the goodbye short.
      gemini: { replies: script, burstSpeed: 0.9 },
      env: { TWILIO_API_BASE_URL: rest.baseUrl, TRANSFER_NUMBER },
    });
  });
  afterAll(async () => {
    await bridge.stop();
    await rest.close();
  });

  it('declares every tool in the Live setup with an explicit behavior, and briefs the model', async () => {
    const { twilio, session } = await placeCall(bridge, rest);
    const declarations = declaredFunctions(session);
    expect(declarations.map((d) => d.name)).toEqual(['end_call', 'transfer_call', 'find_booking', 'check_availability', 'create_booking', 'cancel_booking']);
    for (const declaration of declarations) {
      expect(declaration.behavior).toBe('BLOCKING');
      expect(declaration).not.toHaveProperty('parametersJsonSchema');
    }
    expect(declarations.find((d) => d.name === 'create_booking')?.parameters).toMatchObject({
      type: 'OBJECT',
      properties: { party_size: { type: 'INTEGER', minimum: 1, maximum: 8 }, guest_name: { type: 'STRING' } },
      required: ['guest_name', 'party_size', 'date', 'time'],
    });
    expect(JSON.stringify(declarations)).not.toContain('sensitive');
    const instruction = JSON.stringify(session.setup?.systemInstruction);
    expect(instruction).toContain('phone agent');
    expect(instruction).toContain('The Blue Door');
    expect(instruction).toContain(`(date ${localNow('America/Los_Angeles', new Date()).date})`);
    await twilio.hangUp();
  });

  it('answers a find_booking call with the booking, spoken naturally, and the model carries on', async () => {
    const { twilio, session } = await placeCall(bridge, rest);
    const [id] = session.sendToolCall([{ name: 'find_booking', args: { code: 'K7Q2M9' } }], { text: 'Your table is booked.' });
    await session.waitUntil((s) => s.modelTurns.at(-1)?.outcome === 'completed', 10_000);
    // The sample booking is dated from the day the bookings were seeded (this test's fresh database): always ahead.
    const date = seedBookingDate({ inDays: 14 }, localNow('America/Los_Angeles', new Date()).date, ['Monday']);
    expect(responseTo(session, id!)).toEqual({
      id,
      name: 'find_booking',
      response: {
        output: {
          found: true,
          booking: {
            confirmationCode: 'K7Q2M9',
            spelledOut: 'K 7 Q 2 M 9',
            guestName: 'Dana Whitfield',
            partySize: 4,
            when: spokenDateTime(date, 19 * 60 + 30, localNow('America/Los_Angeles', new Date()).date.slice(0, 4)),
            date,
            time: '19:30',
            status: 'confirmed',
          },
        },
      },
    });
    await twilio.waitForPlayoutIdle(10_000);
    expect(twilio.violations).toEqual([]);
    await twilio.hangUp();
  });

  it('answers every call of a parallel toolCall, unknown tools and bad arguments included, and the call goes on', async () => {
    const { callSid, twilio, session } = await placeCall(bridge, rest, '+14155550142');
    const ids = session.sendToolCall(
      [
        { name: 'check_availability', args: { date: openDayAhead(), time: '18:00', party_size: 2 } },
        { name: 'check_availability', args: { date: openDayAhead(), time: '18:00', party_size: 0 } },
        { name: 'book_spaceship', args: { destination: 'Mars' } },
        { name: 'find_booking', args: {} },
      ],
      { text: 'Here is what I found.' },
    );
    await session.waitUntil((s) => s.modelTurns.at(-1)?.outcome === 'completed', 10_000);
    const [available, invalid, unknown, byNumber] = ids.map((id) => responseTo(session, id));
    expect(available?.response).toEqual({ output: { available: true, when: expect.stringMatching(/ at 6 PM$/), partySize: 2 } });
    expect(invalid).toMatchObject({ name: 'check_availability', response: { error: expect.objectContaining({ message: 'Invalid arguments for check_availability: party_size must be at least 1 (got 0).' }) } });
    expect(unknown).toMatchObject({ name: 'book_spaceship', response: { error: expect.objectContaining({ message: expect.stringMatching(/^There is no tool named "book_spaceship"/) }) } });
    expect(byNumber).toMatchObject({ name: 'find_booking', response: { output: { found: false } } });
    expect(session.toolResponses.every((record) => record.accepted)).toBe(true);
    expect(session.isOpen).toBe(true);

    const lines = bridge.logs.filter((line) => line.callSid === callSid && typeof line.tool === 'string');
    expect(lines.map((line) => [line.tool, line.outcome]).sort()).toEqual([
      ['book_spaceship', 'unknown-tool'],
      ['check_availability', 'invalid-arguments'],
      ['check_availability', 'ok'],
      ['find_booking', 'ok'],
    ]);
    expect(lines.every((line) => typeof line.durationMs === 'number')).toBe(true);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
  });

  it('books a table into the database, and finds it again by the caller\'s number', async () => {
    const caller = '+14155550177';
    const { twilio, session } = await placeCall(bridge, rest, caller);
    const date = openDayAhead();
    const [createId] = session.sendToolCall([{ name: 'create_booking', args: { guest_name: 'Ana Lima', party_size: 2, date, time: '18:30' } }], { text: 'Booked.' });
    await session.waitUntil((s) => s.modelTurns.at(-1)?.outcome === 'completed', 10_000);
    const created = responseTo(session, createId!)?.response as { output: { booked: boolean; booking: { confirmationCode: string; when: string } } };
    expect(created.output.booked).toBe(true);
    expect(created.output.booking.when).toMatch(/ at 6:30 PM$/);

    // Another connection to the same database file sees it: it is stored, not held in memory.
    const store = await BookingStore.open({ dataDir: bridge.config.stores.dataDir, timeZone: 'America/Los_Angeles' });
    expect(await store.findByCode(created.output.booking.confirmationCode)).toMatchObject({ guestName: 'Ana Lima', phone: caller, partySize: 2, date, status: 'confirmed' });
    await store.close();

    // Caller ID can be spoofed: from the number alone, the booking is read out only with the name it is under.
    const [findId] = session.sendToolCall([{ name: 'find_booking', args: { guest_name: 'Ana Lima' } }], { text: 'You have one booking.' });
    await session.waitUntil((s) => s.toolResponses.some((record) => record.response.id === findId), 10_000);
    expect(responseTo(session, findId!)?.response).toMatchObject({ output: { found: true, bookings: [{ confirmationCode: created.output.booking.confirmationCode }] } });
    await twilio.hangUp();
  });

  it('end_call: the goodbye plays in full, then the call is hung up through the REST API', async () => {
    const { callSid, twilio, session } = await placeCall(bridge, rest);
    const heardBefore = twilio.heardAudio.length;
    let atHangUp: { buffered: number; pendingMarks: number; heard: number; now: number; playedUntil: number } | undefined;
    rest.onCallUpdated(({ call }) => {
      if (call.sid !== callSid) return;
      const last = twilio.heardTimeline.at(-1);
      atHangUp = {
        buffered: twilio.bufferedAgentBytes,
        pendingMarks: twilio.pendingMarks.length,
        heard: twilio.heardAudio.length,
        now: twilio.now(),
        playedUntil: last === undefined ? 0 : last.atMs + last.bytes.length / 8,
      };
    });

    const [id] = session.sendToolCall([{ name: 'end_call', args: {} }], { text: GOODBYE });
    const request = await rest.waitForRequest((r) => r.path.endsWith(`/Calls/${callSid}.json`), 15_000);
    expect(request).toMatchObject({ method: 'POST', authorized: true, form: { Status: 'completed' }, responseStatus: 200 });
    expect(responseTo(session, id!)).toMatchObject({ id, name: 'end_call', response: { output: { status: 'ending' } } });

    // When the hang-up reached Twilio, the whole goodbye had been played and nothing was left to play.
    const goodbye = session.modelTurns.at(-1)!;
    expect(goodbye.origin).toBe('toolCall');
    expect(goodbye.outcome).toBe('completed');
    const goodbyeMs = goodbye.audioSamples / 24;
    expect(goodbyeMs).toBeGreaterThan(2_000);
    expect(atHangUp).toBeDefined();
    expect(atHangUp!.buffered).toBe(0);
    expect(atHangUp!.pendingMarks).toBe(0);
    expect((atHangUp!.heard - heardBefore) / 8).toBeGreaterThanOrEqual(goodbyeMs - 1);
    // ... and not much later: the last mark comes back as the audio ends.
    expect(atHangUp!.now - atHangUp!.playedUntil).toBeLessThan(1_000);

    // Then the server ends its side: media stream and Gemini session closed, one summary line.
    expect((await twilio.closed).initiatedBy).toBe('server');
    expect((await session.closed).initiatedBy).toBe('client');
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary.endReason).toBe('agent-hung-up');
    expect(rest.getCall(callSid)?.status).toBe('completed');
    expect(twilio.violations).toEqual([]);
  });

  it('end_call on a call Twilio has already ended counts as hung up', async () => {
    const { callSid, twilio, session } = await placeCall(bridge, rest);
    rest.getCall(callSid)!.status = 'completed'; // the caller hung up at Twilio; the stream has not caught up
    session.sendToolCall([{ name: 'end_call', args: {} }], { text: 'Bye now!' });
    const request = await rest.waitForRequest((r) => r.path.endsWith(`/Calls/${callSid}.json`), 15_000);
    expect(request.responseStatus).toBe(404);
    await twilio.closed;
    const line = await bridge.waitForLog((l) => l.msg === 'hung up the call through the Twilio REST API' && l.callSid === callSid);
    expect(line.result).toBe('already-ended');
    expect((await bridge.waitForLog((l) => l.msg === 'call ended' && l.callSid === callSid)).endReason).toBe('agent-hung-up');
  });

  it('transfer_call: after the announcement, the call is redirected to <Dial> the transfer number', async () => {
    const { callSid, twilio, session } = await placeCall(bridge, rest);
    let bufferedAtRedirect: number | undefined;
    rest.onCallUpdated(({ call, kind }) => {
      if (call.sid !== callSid || kind !== 'redirected') return;
      bufferedAtRedirect = twilio.bufferedAgentBytes;
      void twilio.hangUp(); // new TwiML ends the <Connect><Stream>: Twilio stops the stream
    });
    const [id] = session.sendToolCall([{ name: 'transfer_call', args: {} }], { text: 'Connecting you to a colleague now.' });
    const request = await rest.waitForRequest((r) => r.path.endsWith(`/Calls/${callSid}.json`), 15_000);
    expect(responseTo(session, id!)).toMatchObject({ name: 'transfer_call', response: { output: { status: 'transferring' } } });
    expect(request.form).toEqual({ Twiml: dialTwiml(TRANSFER_NUMBER, DEFAULT_CUES.transferNotAnswered) });
    expect(request.form.Twiml).toContain(`<Dial>${TRANSFER_NUMBER}</Dial>`);
    expect(rest.getCall(callSid)?.twiml).toBe(dialTwiml(TRANSFER_NUMBER, DEFAULT_CUES.transferNotAnswered));
    expect(bufferedAtRedirect).toBe(0);
    expect(session.modelTurns.at(-1)?.outcome).toBe('completed');
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary.endReason).toBe('transferred');
  });

  it('keypad digits reach the model as text at #, and the model can look the code up with them', async () => {
    const { twilio, session } = await placeCall(bridge, rest);
    for (const digit of ['5', '7', '7', '2', '6', '9', '#'] as const) {
      twilio.sendDtmf(digit);
      await sleep(150);
    }
    await session.waitUntil((s) => s.turns.some((turn) => turn.heardText === `${KEYPAD_TEXT_PREFIX} 5 7 7 2 6 9`), 3_000);
    await session.waitUntil((s) => s.toolResponses.length === 1, 5_000);
    expect(session.toolResponses[0]?.response).toMatchObject({ name: 'find_booking', response: { output: { booking: { confirmationCode: 'K7Q2M9' } } } });
    await twilio.hangUp();
  });

  it('keypad digits are sent after the caller pauses', async () => {
    const { twilio, session } = await placeCall(bridge, rest);
    const sentAt = performance.now();
    for (const digit of ['4', '2', '7'] as const) twilio.sendDtmf(digit);
    await session.waitUntil((s) => s.turns.some((turn) => turn.heardText?.startsWith(KEYPAD_TEXT_PREFIX) === true), 5_000);
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(1_900);
    expect(session.turns.at(-1)?.heardText).toBe(`${KEYPAD_TEXT_PREFIX} 4 2 7`);
    await twilio.hangUp();
  });

  it('never logs secrets, phone numbers, guest names or keyed digits', () => {
    const text = bridge.logText();
    expect(text).not.toContain(TEST_AUTH_TOKEN);
    expect(text).not.toContain(Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64'));
    expect(text).not.toMatch(/\+1\d{10}/);
    expect(text).not.toContain('Ana Lima');
    expect(text).not.toContain('Dana');

    expect(text).not.toMatch(/5 ?7 ?7 ?2 ?6 ?9/);
  });
});

describe('tools without a transfer number, against a Twilio that refuses our credentials', () => {
  let rest: FakeTwilioRestApi;
  let bridge: Bridge;

  beforeAll(async () => {
    rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: 'a'.repeat(32) });
    bridge = await startBridge({ gemini: { replies: script }, env: { TWILIO_API_BASE_URL: rest.baseUrl } });
  });
  afterAll(async () => {
    await bridge.stop();
    await rest.close();
  });

  it('does not declare transfer_call, and still ends the call when the REST hang-up fails', async () => {
    const { callSid, twilio, session } = await placeCall(bridge, rest);
    expect(declaredFunctions(session).map((d) => d.name)).not.toContain('transfer_call');
    session.sendToolCall([{ name: 'end_call', args: {} }], { text: 'Goodbye!' });
    const request = await rest.waitForRequest((r) => r.path.endsWith(`/Calls/${callSid}.json`), 15_000);
    expect(request.responseStatus).toBe(401);
    // Closing the media stream ends the call, since nothing follows </Connect> in the TwiML.
    expect((await twilio.closed).initiatedBy).toBe('server');
    const failure = await bridge.waitForLog((line) => line.msg.startsWith('Twilio REST hang-up failed') && line.callSid === callSid);
    expect(JSON.stringify(failure)).toContain('401');
    expect((await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid)).endReason).toBe('agent-hung-up');
    expect(bridge.logText()).not.toContain(TEST_AUTH_TOKEN);
  });
});
