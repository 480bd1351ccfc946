import { defineAgent, type Agent } from 'gemini-phone-agent';
import { BookingStore } from './booking-store.js';
import { restaurantBriefing, restaurantTools } from './booking-tools.js';

/**
 * The restaurant example: a phone agent that takes table reservations for a restaurant, on a SQLite database
 * under DATA_DIR (created and seeded from seed.json on first start). It uses only the public API, as your
 * own agent would. `npm start` runs it when AGENT is not set.
 */

export interface RestaurantAgentOptions {
  /** Where the bookings database lives. Default: DATA_DIR, else ./data. */
  dataDir?: string;
  /** The restaurant's IANA time zone. Default: RESTAURANT_TIME_ZONE, else America/Los_Angeles. */
  timeZone?: string;
  /** Where transfer_call sends callers (E.164); default TRANSFER_NUMBER. */
  transferNumber?: string;
  /** Answer only these numbers (E.164); default: every number. */
  phoneNumbers?: string[];
}

export function createRestaurantAgent(options: RestaurantAgentOptions = {}): Agent {
  const bookings = BookingStore.open({
    dataDir: options.dataDir ?? process.env.DATA_DIR ?? './data',
    timeZone: options.timeZone ?? process.env.RESTAURANT_TIME_ZONE ?? 'America/Los_Angeles',
  });
  return defineAgent({
    name: 'restaurant',
    voice: 'Kore',
    // Written per call: the briefing carries today's date and time at the restaurant.
    instructions: () =>
      [
        'You are a friendly, efficient phone agent. You are speaking with a caller over a telephone line.',
        'Keep answers short and natural, one or two sentences at a time, and let the caller interrupt you.',
        'Never read out markup, lists or symbols; say numbers, dates and times the way people speak them.',
        restaurantBriefing(bookings),
      ].join(' '),
    greeting: {
      inbound: `The phone call has just been connected. Greet the caller on behalf of ${bookings.profile.name} and ask how you can help.`,
    },
    tools: restaurantTools(bookings),
    ...(options.transferNumber === undefined ? {} : { transferNumber: options.transferNumber }),
    ...(options.phoneNumbers === undefined ? {} : { phoneNumbers: options.phoneNumbers }),
  });
}

export default createRestaurantAgent();
