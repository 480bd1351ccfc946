import { restaurantBriefing, restaurantTools } from '../business/booking-tools.js';
import type { BookingStore } from '../business/booking-store.js';
import { endCallTool } from './end-call.js';
import { ToolRegistry } from './tool.js';
import { transferCallTool } from './transfer-call.js';

export { ToolRegistry } from './tool.js';

export interface ToolDependencies {
  bookings: BookingStore;
  /** TRANSFER_NUMBER; without it there is no transfer_call to declare. */
  transferNumber: string | undefined;
}

/** Every tool the agent has: one line per tool (or group of tools). Add yours here. */
export function createToolRegistry({ bookings, transferNumber }: ToolDependencies): ToolRegistry {
  return new ToolRegistry(
    [
      endCallTool,
      ...(transferNumber === undefined ? [] : [transferCallTool(transferNumber)]),
      ...restaurantTools(bookings),
    ],
    [() => restaurantBriefing(bookings)],
  );
}
