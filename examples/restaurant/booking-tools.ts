import { defineTool, ToolError, type Tool } from 'gemini-phone-agent';
import { isUnavailable, type Booking, type BookingStore } from './booking-store.js';
import { clockTime, isCalendarDate, parseClockTime, spokenDate, spokenDateTime, spokenTime } from './restaurant-time.js';

/**
 * The sample business: table reservations at a restaurant, on `BookingStore`. Dates and times go in
 * and out as `YYYY-MM-DD` / `HH:MM` in the restaurant's time zone (exact, for the next call), and each
 * answer also carries the words to say ("Saturday, December 5 at 7:30 PM").
 *
 * Caller ID is not proof of who is calling: it is easy to spoof. So the number a call comes from only finds
 * out how many bookings were made from it; a booking is read out for its confirmation code (something only
 * the guest was told) or, from that number, the name it was booked under; cancelling needs the code and the
 * name; and each call gets a few wrong codes or names, then no more (see `CallGuard`).
 */

const DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Date in the restaurant\'s time zone, YYYY-MM-DD.' } as const;
const TIME = { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'Time in the restaurant\'s time zone, 24-hour HH:MM.' } as const;
const CODE = {
  type: 'string',
  pattern: '^[A-Za-z0-9 -]{4,20}$',
  description: 'Confirmation code as the caller says it (e.g. K7Q2M9), or as typed on the phone keypad (digits only, e.g. 577269).',
  sensitive: true,
} as const;

const GUEST_NAME = { type: 'string', minLength: 1, maxLength: 80, description: 'The name the reservation was booked under, as the caller says it.', sensitive: true } as const;

/** How many wrong codes or names one call may try before lookups and cancellations stop for that call. */
export const MAX_FAILED_ATTEMPTS = 3;
/** A call's state is dropped when it ends (`forget`), and in any case this long after its last attempt. */
const CALL_STATE_TTL_MS = 4 * 60 * 60 * 1000;

/** What the model hears while the database cannot be reached; the call goes on. */
export const UNAVAILABLE_ANSWER =
  'The booking system is unavailable right now. Apologise, and offer to take a message or ask the caller to call back a little later; do not guess availability or bookings.';
const TOO_MANY_ATTEMPTS =
  'Too many wrong confirmation codes or names on this call: no more lookups or cancellations can be made on it. Apologise, and offer to transfer the caller to the staff or ask them to call back.';

/**
 * Failed proofs (wrong codes, names that do not match) per call, keyed by CallSid: the limit holds on the
 * keypad and in speech alike, and a new call starts afresh. Entries are dropped when the call ends
 * (`forget`, wired to the agent's `onCallEnded`) and, should that never come, after CALL_STATE_TTL_MS.
 */
export class CallGuard {
  private readonly calls = new Map<string, { failures: number; touchedAt: number }>();

  constructor(
    readonly maxFailures = MAX_FAILED_ATTEMPTS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Throws the "too many attempts" answer once this call has used up its attempts. */
  check(callSid: string): void {
    this.sweep();
    if ((this.calls.get(callSid)?.failures ?? 0) >= this.maxFailures) throw new ToolError(TOO_MANY_ATTEMPTS);
  }

  /** Counts a failed attempt and returns how many are left. */
  fail(callSid: string): number {
    const entry = this.calls.get(callSid) ?? { failures: 0, touchedAt: 0 };
    entry.failures += 1;
    entry.touchedAt = this.clock();
    this.calls.set(callSid, entry);
    return Math.max(0, this.maxFailures - entry.failures);
  }

  forget(callSid: string): void {
    this.calls.delete(callSid);
  }

  /** Calls with state kept (for tests and metrics). */
  get size(): number {
    return this.calls.size;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [callSid, entry] of this.calls) if (now - entry.touchedAt > CALL_STATE_TTL_MS) this.calls.delete(callSid);
  }
}

/** What the model is told about the business at the start of every session. */
export async function restaurantBriefing(store: BookingStore): Promise<string> {
  // The restaurant as the database has it; if the database is down, as the seed says: the call goes on.
  await store.ready().catch(() => undefined);
  const { profile } = store;
  const now = store.now();
  const closed = profile.closedOn.length === 0 ? '' : ` It is closed on ${profile.closedOn.map((day) => `${day}s`).join(' and ')}.`;
  return [
    `You answer the phone for ${profile.name}, a restaurant, and take care of table reservations with the booking tools; never invent availability or bookings.`,
    `At the restaurant it is now ${spokenDate(now.date)}, ${now.date.slice(0, 4)}, ${spokenTime(now.minute)} (date ${now.date}); give tools dates as YYYY-MM-DD and times as 24-hour HH:MM.`,
    `Tables can be booked from ${profile.firstSeating} to ${profile.lastSeating} every ${profile.slotMinutes} minutes, for up to ${store.largestTable} people.${closed}`,
    'Before booking, confirm the name, party size, date and time with the caller. Read confirmation codes one character at a time.',
    "The caller's phone number is not proof of who they are: to hear a reservation's details the caller gives its confirmation code or the name it was booked under, and to cancel, both.",
  ].join(' ');
}

export function restaurantTools(store: BookingStore, guard: CallGuard = new CallGuard()): Tool[] {
  return [findBookingTool(store, guard), checkAvailabilityTool(store), createBookingTool(store), cancelBookingTool(store, guard)];
}

export function findBookingTool(store: BookingStore, guard: CallGuard = new CallGuard()): Tool {
  return defineTool({
    name: 'find_booking',
    description:
      'Looks up a reservation by its confirmation code, or by the name it was booked under (for reservations made from the number the caller is calling from). ' +
      'With neither, it only says how many upcoming reservations were made from that number: then ask for the code or the name.',
    behavior: 'BLOCKING',
    parameters: { type: 'object', properties: { code: CODE, guest_name: GUEST_NAME } },
    handler: ({ code, guest_name: guestName }, { call }) =>
      answering(async () => {
        if (code !== undefined) {
          guard.check(call.callSid);
          // The code is the proof: only the guest was told it.
          return { found: true, booking: describe(store, await bookingForCode(store, code, guard, call.callSid)) };
        }
        if (call.callerNumber === undefined) {
          throw new ToolError("The caller's number is withheld, so bookings cannot be found by phone number. Ask for the confirmation code.");
        }
        const bookings = await store.upcomingForPhone(call.callerNumber);
        if (guestName === undefined) {
          // Caller ID can be spoofed: the number alone tells how many bookings there are, never what they are.
          if (bookings.length === 0) {
            return { found: false, message: 'No upcoming reservation was made from the number the caller is calling from. Ask for the confirmation code.' };
          }
          const count = bookings.length === 1 ? 'one upcoming reservation' : `${bookings.length} upcoming reservations`;
          return {
            found: true,
            count: bookings.length,
            message: `There is ${count} made from the number the caller is calling from. To hear the details, ask for the confirmation code or the name it was booked under.`,
          };
        }
        guard.check(call.callSid);
        const mine = bookings.filter((booking) => sameGuest(booking.guestName, guestName));
        if (mine.length === 0) {
          const left = guard.fail(call.callSid);
          throw new ToolError(`No upcoming reservation from this number is under that name. Ask for the confirmation code instead.${attemptsLeft(left)}`);
        }
        return { found: true, bookings: mine.map((booking) => describe(store, booking)) };
      }),
  });
}

export function checkAvailabilityTool(store: BookingStore): Tool {
  return defineTool({
    name: 'check_availability',
    description: 'Checks whether a table is free for a party at a date and time. If not, it suggests the nearest free times that day.',
    behavior: 'BLOCKING',
    parameters: {
      type: 'object',
      properties: { date: DATE, time: TIME, party_size: { type: 'integer', minimum: 1, maximum: store.largestTable, description: 'Number of people.' } },
      required: ['date', 'time', 'party_size'],
    },
    handler: ({ date, time, party_size: partySize }) =>
      answering(async () => {
        const startMinute = requireDateTime(date, time);
        const when = spokenDateTime(date, startMinute, currentYear(store));
        const refused = store.checkRules(date, startMinute, partySize);
        if (refused !== undefined) return { available: false, when, reason: refused, alternatives: await alternatives(store, date, startMinute, partySize) };
        if (await store.hasFreeTable(date, startMinute, partySize)) return { available: true, when, partySize };
        return { available: false, when, reason: `Every table for ${partySize} is taken then.`, alternatives: await alternatives(store, date, startMinute, partySize) };
      }),
  });
}

export function createBookingTool(store: BookingStore): Tool {
  return defineTool({
    name: 'create_booking',
    description:
      'Books a table. Use it only after the caller has confirmed the name, party size, date and time. ' +
      "The booking is under the caller's phone number unless they give another one.",
    behavior: 'BLOCKING',
    parameters: {
      type: 'object',
      properties: {
        guest_name: { type: 'string', minLength: 1, maxLength: 80, description: 'Name the table is booked under.', sensitive: true },
        party_size: { type: 'integer', minimum: 1, maximum: store.largestTable, description: 'Number of people.' },
        date: DATE,
        time: TIME,
        phone: {
          type: 'string',
          pattern: '^\\+[1-9][0-9 ().-]{6,20}$',
          description: "Only if the caller wants a different callback number: international format with country code, e.g. +14155550100.",
          sensitive: true,
        },
        notes: { type: 'string', maxLength: 300, description: 'Special requests (allergies, high chair, occasion).', sensitive: true },
      },
      required: ['guest_name', 'party_size', 'date', 'time'],
    },
    handler: ({ guest_name: guestName, party_size: partySize, date, time, phone, notes }, { call }) =>
      answering(async () => {
        const callback = phone === undefined ? call.callerNumber : `+${phone.replace(/\D/g, '')}`;
        if (callback === undefined) throw new ToolError("The caller's number is withheld: ask for a callback number with the country code, and pass it as phone.");
        const startMinute = requireDateTime(date, time);
        const result = await store.create({ guestName: guestName.trim(), phone: callback, partySize, date, startMinute, notes: notes?.trim() || undefined });
        const when = spokenDateTime(date, startMinute, currentYear(store));
        switch (result.kind) {
          case 'booked':
            return { booked: true, booking: describe(store, result.booking) };
          case 'duplicate':
            return { booked: true, alreadyExisted: true, booking: describe(store, result.booking) };
          case 'full':
            return { booked: false, when, reason: `Every table for ${partySize} is taken then.`, alternatives: result.alternatives.map((minute) => slot(store, date, minute)) };
          case 'refused':
            return { booked: false, when, reason: result.reason, alternatives: await alternatives(store, date, startMinute, partySize) };
        }
      }),
  });
}

export function cancelBookingTool(store: BookingStore, guard: CallGuard = new CallGuard()): Tool {
  return defineTool({
    name: 'cancel_booking',
    description:
      'Cancels a reservation. It needs both the confirmation code and the name the reservation was booked under. ' +
      'Confirm with the caller (read back the date and time) before calling it.',
    behavior: 'BLOCKING',
    parameters: { type: 'object', properties: { code: CODE, guest_name: GUEST_NAME }, required: ['code', 'guest_name'] },
    handler: ({ code, guest_name: guestName }, { call }) =>
      answering(async () => {
        guard.check(call.callSid);
        const booking = await bookingForCode(store, code, guard, call.callSid);
        if (!sameGuest(booking.guestName, guestName)) {
          const left = guard.fail(call.callSid);
          // Which of the two was wrong is not said: that would help someone guessing.
          throw new ToolError(`That code and name do not match a reservation, so nothing was cancelled. Ask the caller to check both.${attemptsLeft(left)}`);
        }
        const result = await store.cancel(booking.code);
        switch (result.kind) {
          case 'cancelled':
            return { cancelled: true, booking: describe(store, result.booking) };
          case 'already-cancelled':
            return { cancelled: false, reason: 'This reservation was already cancelled.', booking: describe(store, result.booking) };
          case 'past':
            return { cancelled: false, reason: 'This reservation has already started or passed; it cannot be cancelled.', booking: describe(store, result.booking) };
          case 'not-found':
            throw new ToolError(`No reservation has the code ${spelled(booking.code)}.`);
        }
      }),
  });
}

/** Runs a tool's work; a database that cannot be reached becomes an answer the model can give the caller. */
async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ToolError || !isUnavailable(error)) throw error;
    throw new ToolError(UNAVAILABLE_ANSWER);
  }
}

/**
 * Whether the name the caller gave is the booking's: every word of it is in the booked name, the surname
 * included ("Whitfield" and "dana whitfield" match Dana Whitfield; "Dana" alone does not).
 */
export function sameGuest(bookedName: string, givenName: string): boolean {
  const words = (name: string) => name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().split(/[^\p{L}\p{N}']+/u).filter((word) => word !== '');
  const booked = words(bookedName);
  const given = words(givenName);
  const surname = booked.at(-1);
  return given.length > 0 && surname !== undefined && given.includes(surname) && given.every((word) => booked.includes(word));
}

function attemptsLeft(left: number): string {
  return left === 0 ? ' That was the last attempt on this call.' : ` ${left} more ${left === 1 ? 'attempt' : 'attempts'} on this call.`;
}

/** Minutes after midnight of a checked `HH:MM`, once `date` is known to be on the calendar (the schema checked the shapes). */
function requireDateTime(date: string, time: string): number {
  if (!isCalendarDate(date)) throw new ToolError(`${date} is not a date on the calendar.`);
  return parseClockTime(time) as number;
}

/** A spoken or typed code → the booking; letters may come as keypad digits. A wrong code uses up one of the call's attempts. */
async function bookingForCode(store: BookingStore, input: string, guard: CallGuard, callSid: string): Promise<Booking> {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  const exact = await store.findByCode(code);
  if (exact !== undefined) return exact;
  if (/^\d+$/.test(code)) {
    const matches = await store.findByKeypadDigits(code);
    if (matches.length === 1) return matches[0] as Booking;
    if (matches.length > 1) throw new ToolError('Those keypad digits fit more than one reservation. Ask the caller to say the code, letters included.');
  }
  const left = guard.fail(callSid);
  throw new ToolError(`No reservation has the code ${spelled(code)}. Ask the caller to repeat it, one character at a time.${attemptsLeft(left)}`);
}

function describe(store: BookingStore, booking: Booking) {
  return {
    confirmationCode: booking.code,
    spelledOut: spelled(booking.code),
    guestName: booking.guestName,
    partySize: booking.partySize,
    when: spokenDateTime(booking.date, booking.startMinute, currentYear(store)),
    date: booking.date,
    time: clockTime(booking.startMinute),
    status: booking.status,
    ...(booking.status === 'confirmed' && store.hasStarted(booking) ? { past: true } : {}),
    ...(booking.notes === undefined ? {} : { notes: booking.notes }),
  };
}

async function alternatives(store: BookingStore, date: string, startMinute: number, partySize: number) {
  return (await store.alternatives(date, startMinute, partySize)).map((minute) => slot(store, date, minute));
}

function slot(store: BookingStore, date: string, minute: number) {
  return { when: spokenDateTime(date, minute, currentYear(store)), date, time: clockTime(minute) };
}

function spelled(code: string): string {
  return [...code].join(' ');
}

function currentYear(store: BookingStore): string {
  return store.now().date.slice(0, 4);
}
