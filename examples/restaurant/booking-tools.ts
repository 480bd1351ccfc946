import { defineTool, ToolError, type Tool } from 'gemini-phone-agent';
import type { Booking, BookingStore } from './booking-store.js';
import { clockTime, isCalendarDate, parseClockTime, spokenDate, spokenDateTime, spokenTime } from './restaurant-time.js';

/**
 * The sample business: table reservations at a restaurant, on `BookingStore`. Dates and times go in
 * and out as `YYYY-MM-DD` / `HH:MM` in the restaurant's time zone (exact, for the next call), and each
 * answer also carries the words to say ("Saturday, December 5 at 7:30 PM").
 */

const DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Date in the restaurant\'s time zone, YYYY-MM-DD.' } as const;
const TIME = { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'Time in the restaurant\'s time zone, 24-hour HH:MM.' } as const;
const CODE = {
  type: 'string',
  pattern: '^[A-Za-z0-9 -]{4,20}$',
  description: 'Confirmation code as the caller says it (e.g. K7Q2M9), or as typed on the phone keypad (digits only, e.g. 577269).',
  sensitive: true,
} as const;

/** What the model is told about the business at the start of every session. */
export function restaurantBriefing(store: BookingStore): string {
  const { profile } = store;
  const now = store.now();
  const closed = profile.closedOn.length === 0 ? '' : ` It is closed on ${profile.closedOn.map((day) => `${day}s`).join(' and ')}.`;
  return [
    `You answer the phone for ${profile.name}, a restaurant, and take care of table reservations with the booking tools; never invent availability or bookings.`,
    `At the restaurant it is now ${spokenDate(now.date)}, ${now.date.slice(0, 4)}, ${spokenTime(now.minute)} (date ${now.date}); give tools dates as YYYY-MM-DD and times as 24-hour HH:MM.`,
    `Tables can be booked from ${profile.firstSeating} to ${profile.lastSeating} every ${profile.slotMinutes} minutes, for up to ${store.largestTable} people.${closed}`,
    'Before booking, confirm the name, party size, date and time with the caller. Read confirmation codes one character at a time.',
  ].join(' ');
}

export function restaurantTools(store: BookingStore): Tool[] {
  return [findBookingTool(store), checkAvailabilityTool(store), createBookingTool(store), cancelBookingTool(store)];
}

export function findBookingTool(store: BookingStore): Tool {
  return defineTool({
    name: 'find_booking',
    description:
      "Looks up a reservation by its confirmation code. Without a code it finds the upcoming reservations made from the number the caller is calling from.",
    behavior: 'BLOCKING',
    parameters: { type: 'object', properties: { code: CODE } },
    handler: ({ code }, { call }) => {
      if (code !== undefined) return { found: true, booking: describe(store, bookingForCode(store, code)) };
      if (call.callerNumber === undefined) {
        throw new ToolError("The caller's number is withheld, so bookings cannot be found by phone number. Ask for the confirmation code.");
      }
      const bookings = store.upcomingForPhone(call.callerNumber);
      if (bookings.length === 0) {
        return { found: false, message: 'No upcoming reservation was made from the number the caller is calling from. Ask for the confirmation code.' };
      }
      return { found: true, bookings: bookings.map((booking) => describe(store, booking)) };
    },
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
    handler: ({ date, time, party_size: partySize }) => {
      const startMinute = requireDateTime(date, time);
      const when = spokenDateTime(date, startMinute, currentYear(store));
      const refused = store.checkRules(date, startMinute, partySize);
      if (refused !== undefined) return { available: false, when, reason: refused, alternatives: alternatives(store, date, startMinute, partySize) };
      if (store.hasFreeTable(date, startMinute, partySize)) return { available: true, when, partySize };
      return { available: false, when, reason: `Every table for ${partySize} is taken then.`, alternatives: alternatives(store, date, startMinute, partySize) };
    },
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
    handler: ({ guest_name: guestName, party_size: partySize, date, time, phone, notes }, { call }) => {
      const callback = phone === undefined ? call.callerNumber : `+${phone.replace(/\D/g, '')}`;
      if (callback === undefined) throw new ToolError("The caller's number is withheld: ask for a callback number with the country code, and pass it as phone.");
      const startMinute = requireDateTime(date, time);
      const result = store.create({ guestName: guestName.trim(), phone: callback, partySize, date, startMinute, notes: notes?.trim() || undefined });
      const when = spokenDateTime(date, startMinute, currentYear(store));
      switch (result.kind) {
        case 'booked':
          return { booked: true, booking: describe(store, result.booking) };
        case 'duplicate':
          return { booked: true, alreadyExisted: true, booking: describe(store, result.booking) };
        case 'full':
          return { booked: false, when, reason: `Every table for ${partySize} is taken then.`, alternatives: result.alternatives.map((minute) => slot(store, date, minute)) };
        case 'refused':
          return { booked: false, when, reason: result.reason, alternatives: alternatives(store, date, startMinute, partySize) };
      }
    },
  });
}

export function cancelBookingTool(store: BookingStore): Tool {
  return defineTool({
    name: 'cancel_booking',
    description: 'Cancels a reservation by its confirmation code. Confirm with the caller (read back the date and time) before calling it.',
    behavior: 'BLOCKING',
    parameters: { type: 'object', properties: { code: CODE }, required: ['code'] },
    handler: ({ code }) => {
      const booking = bookingForCode(store, code);
      const result = store.cancel(booking.code);
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
    },
  });
}

/** Minutes after midnight of a checked `HH:MM`, once `date` is known to be on the calendar (the schema checked the shapes). */
function requireDateTime(date: string, time: string): number {
  if (!isCalendarDate(date)) throw new ToolError(`${date} is not a date on the calendar.`);
  return parseClockTime(time) as number;
}

/** A spoken or typed code → the booking; letters may come as keypad digits. */
function bookingForCode(store: BookingStore, input: string): Booking {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  const exact = store.findByCode(code);
  if (exact !== undefined) return exact;
  if (/^\d+$/.test(code)) {
    const matches = store.findByKeypadDigits(code);
    if (matches.length === 1) return matches[0] as Booking;
    if (matches.length > 1) throw new ToolError('Those keypad digits fit more than one reservation. Ask the caller to say the code, letters included.');
  }
  throw new ToolError(`No reservation has the code ${spelled(code)}. Ask the caller to repeat it, one character at a time.`);
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

function alternatives(store: BookingStore, date: string, startMinute: number, partySize: number) {
  return store.alternatives(date, startMinute, partySize).map((minute) => slot(store, date, minute));
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
