import { randomBytes } from 'node:crypto';

/**
 * Twilio SIDs are a two-letter type prefix plus 32 lowercase hex digits (CA = call, MZ = media stream,
 * AC = account). Tests use fresh random SIDs so nothing can pass by matching a hard-coded value.
 */
function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

export function newCallSid(): string {
  return newSid('CA');
}

export function newStreamSid(): string {
  return newSid('MZ');
}

export function newAccountSid(): string {
  return newSid('AC');
}

/** A fixed, realistic-looking account for tests that do not care which account is calling. */
export const TEST_ACCOUNT_SID = 'AC5f1e9c3a7b2d4e6f8a0b1c2d3e4f5a6b';

/** Twilio auth tokens are 32 hex characters; this one exists only in tests. */
export const TEST_AUTH_TOKEN = '9b2c6f0e4d8a1b3c5e7f9a0b2c4d6e8f';

const SID_RE = /^(?<prefix>[A-Z]{2})[0-9a-f]{32}$/;

/** True when `sid` is a well-formed SID with the given prefix (e.g. `isSid(x, 'CA')`). */
export function isSid(sid: string, prefix: string): boolean {
  return SID_RE.exec(sid)?.groups?.['prefix'] === prefix;
}
