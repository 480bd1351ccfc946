/**
 * A separate process booking the same tables as its siblings (spawned by booking-store.test.ts): each opens
 * its own connection to one database file, waits for "go", then tries to book every requested slot.
 */
import { BookingStore } from '../../../examples/restaurant/booking-store.js';

interface Go {
  dataDir: string;
  nowIso: string;
  phone: string;
  slots: Array<{ date: string; startMinute: number; partySize: number }>;
}

process.on('message', (message: Go | 'go') => {
  if (message === 'go') return;
  const store = BookingStore.open({ dataDir: message.dataDir, timeZone: 'America/Los_Angeles', now: () => new Date(message.nowIso) });
  process.send?.('ready');
  process.once('message', () => {
    const results = message.slots.map((slot) => {
      try {
        const result = store.create({ guestName: `Contender ${process.pid}`, phone: message.phone, ...slot });
        return result.kind === 'booked' ? `booked:${result.booking.tableId}` : result.kind;
      } catch (error) {
        return `error:${(error as Error).message}`;
      }
    });
    store.close();
    process.send?.({ results }, () => process.exit(0));
  });
});
