/**
 * A separate process booking the same tables as its siblings (spawned by booking-store.test.ts): each opens
 * its own connection (SQLite) or pool (Postgres) to one database, waits for "go", then tries to book every
 * requested slot.
 */
import { BookingStore } from '../../../examples/restaurant/booking-store.js';
import type { Location } from './booking-backends.js';

interface Go {
  location: Location;
  nowIso: string;
  phone: string;
  slots: Array<{ date: string; startMinute: number; partySize: number }>;
}

process.on('message', (message: Go | 'go') => {
  if (message === 'go') return;
  void (async () => {
    const store = await BookingStore.open({ ...message.location, timeZone: 'America/Los_Angeles', now: () => new Date(message.nowIso) });
    process.once('message', () => {
      void (async () => {
        const results: string[] = [];
        for (const slot of message.slots) {
          try {
            const result = await store.create({ guestName: `Contender ${process.pid}`, phone: message.phone, ...slot });
            results.push(result.kind === 'booked' ? `booked:${result.booking.tableId}` : result.kind);
          } catch (error) {
            results.push(`error:${(error as Error).message}`);
          }
        }
        await store.close();
        process.send?.({ results }, () => process.exit(0));
      })();
    });
    process.send?.('ready');
  })();
});
