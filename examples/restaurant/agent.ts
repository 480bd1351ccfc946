import { defineAgent, type Agent } from 'gemini-phone-agent';
import { BookingStore } from './booking-store.js';
import { CallGuard, restaurantBriefing, restaurantTools } from './booking-tools.js';

/**
 * The restaurant example: a phone agent that takes table reservations for a restaurant. Its bookings live in
 * SQLite under DATA_DIR by default, or in Postgres when DATABASE_URL is set (created, migrated and seeded from
 * seed.json on first start, either way). It uses only the public API, as your own agent would. `npm start`
 * runs it when AGENT is not set.
 */

export interface RestaurantAgentOptions {
  /** Where the SQLite bookings database lives. Default: DATA_DIR, else ./data. */
  dataDir?: string;
  /** Keep the bookings in Postgres instead (`postgres://…`). Default: DATABASE_URL; unset or empty: SQLite. */
  databaseUrl?: string;
  /** The restaurant's IANA time zone. Default: RESTAURANT_TIME_ZONE, else America/Los_Angeles. */
  timeZone?: string;
  /** Where transfer_call sends callers (E.164); default TRANSFER_NUMBER. */
  transferNumber?: string;
  /** Answer only these numbers (E.164); default: every number. */
  phoneNumbers?: string[];
}

/**
 * Returns at once: the seed is checked and a SQLite file opened now; Postgres is reached (and migrated) on
 * the first call that needs it, and while it is down the booking tools say so and the call goes on.
 */
export function createRestaurantAgent(options: RestaurantAgentOptions = {}): Agent {
  const databaseUrl = options.databaseUrl ?? (process.env.DATABASE_URL || undefined);
  const timeZone = options.timeZone ?? process.env.RESTAURANT_TIME_ZONE ?? 'America/Los_Angeles';
  const bookings =
    databaseUrl === undefined
      ? BookingStore.openLazily({ dataDir: options.dataDir ?? process.env.DATA_DIR ?? './data', timeZone })
      : BookingStore.openLazily({ databaseUrl, timeZone });
  // Wrong confirmation codes and names, counted per call; forgotten when the call ends.
  const guard = new CallGuard();
  return defineAgent({
    name: 'restaurant',
    voice: 'Kore',
    // Written per call: the briefing carries today's date and time at the restaurant.
    instructions: async () =>
      [
        'You are a friendly, efficient phone agent. You are speaking with a caller over a telephone line.',
        'Keep answers short and natural, one or two sentences at a time, and let the caller interrupt you.',
        'Never read out markup, lists or symbols; say numbers, dates and times the way people speak them.',
        await restaurantBriefing(bookings),
      ].join(' '),
    greeting: {
      inbound: `The phone call has just been connected. Greet the caller on behalf of ${bookings.profile.name} and ask how you can help.`,
    },
    tools: restaurantTools(bookings, guard),
    onCallEnded: (_summary, call) => guard.forget(call.callSid),
    ...(options.transferNumber === undefined ? {} : { transferNumber: options.transferNumber }),
    ...(options.phoneNumbers === undefined ? {} : { phoneNumbers: options.phoneNumbers }),
  });
}

export default createRestaurantAgent();
