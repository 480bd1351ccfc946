import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Form parameters as Twilio sends them. A repeated name (rare in voice webhooks) is an array of values.
 */
export type SignatureParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * `X-Twilio-Signature`, computed from Twilio's published algorithm
 * (https://www.twilio.com/docs/usage/webhooks/webhooks-security), deliberately NOT via the twilio package so the
 * fake and the code under test cannot share a bug:
 *
 *   1. start with the full URL Twilio requested, exactly as configured (scheme, host, port, path, query string);
 *   2. for form-encoded POSTs, append each parameter sorted by name (case-sensitive, code-unit order) as
 *      name + value with no separators; a repeated name contributes name+value for each of its values, values
 *      sorted;
 *   3. HMAC-SHA1 over the UTF-8 bytes, keyed by the account's auth token; base64.
 *
 * For a Media Streams WebSocket upgrade the URL is the `wss://` stream URL and there are no parameters.
 */
export function computeTwilioSignature(authToken: string, url: string, params: SignatureParams = {}): string {
  let data = url;
  for (const name of Object.keys(params).sort(compareCodeUnits)) {
    const value = params[name];
    const values = typeof value === 'string' ? [value] : [...(value ?? [])].sort(compareCodeUnits);
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Constant-time check of a received signature against the expected one (used by the in-test servers). */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: SignatureParams = {},
): boolean {
  if (signature === undefined) return false;
  const expected = Buffer.from(computeTwilioSignature(authToken, url, params));
  const actual = Buffer.from(signature);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

// Explicit comparator: the spec's "sorted alphabetically" means byte/code-unit order, not locale order
// (localeCompare would put 'a' before 'B').
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
