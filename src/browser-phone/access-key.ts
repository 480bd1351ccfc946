import { randomBytes } from 'node:crypto';
import { StateUnavailableError, type CallStateStore } from '../state/call-state.js';

/**
 * Where the browser phone's access key comes from: BROWSER_PHONE_KEY; in a fleet (REDIS_URL), the key the
 * instances agree on through the shared state (the first to start makes it, the others read it, so any instance
 * accepts the page, whichever one the load balancer picks); else a random key for this start.
 */
export type AccessKeySource = 'BROWSER_PHONE_KEY' | 'fleet' | 'this-start';

/** The key's name in the shared state (Redis: `phone-agent:agreed:browser-phone-key`). */
export const FLEET_ACCESS_KEY_NAME = 'browser-phone-key';
/** How long a starting instance waits for Redis to agree on the key before it gives up (and says why). */
export const FLEET_ACCESS_KEY_WAIT_MS = 10_000;
const RETRY_MS = 200;

export interface AccessKeyOptions {
  /** BROWSER_PHONE_KEY. */
  configured: string | undefined;
  /** The fleet's shared state, when REDIS_URL is set. */
  fleet: Pick<CallStateStore, 'agreeOn'> | undefined;
  waitMs?: number;
}

export async function browserPhoneAccessKey({ configured, fleet, waitMs = FLEET_ACCESS_KEY_WAIT_MS }: AccessKeyOptions): Promise<{ key: string; source: AccessKeySource }> {
  if (configured !== undefined) return { key: configured, source: 'BROWSER_PHONE_KEY' };
  if (fleet === undefined) return { key: generateAccessKey(), source: 'this-start' };
  const proposed = generateAccessKey();
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return { key: await fleet.agreeOn(FLEET_ACCESS_KEY_NAME, proposed), source: 'fleet' };
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      if (Date.now() >= deadline) {
        throw new Error(
          `the browser phone's access key is shared by the fleet through Redis (REDIS_URL), which did not answer within ${Math.round(waitMs / 1000)} s: start Redis, set BROWSER_PHONE_KEY (the same on every instance), or BROWSER_PHONE=0`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

/** A random access key: 24 bytes, base64url (safe in a URL fragment and a header). */
export function generateAccessKey(): string {
  return randomBytes(24).toString('base64url');
}
