import twilio from 'twilio';

/**
 * Checks `X-Twilio-Signature` (HMAC-SHA1 of the URL Twilio requested plus the sorted form parameters).
 * The URL is always the configured public one, never rebuilt from proxy headers: behind ngrok or a
 * load balancer the local request says http://localhost and every signature would fail.
 */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  publicUrl: string,
  params: Record<string, string | string[]>,
): boolean {
  // Without Twilio configured the token is empty, and an HMAC under an empty key is one anybody can compute.
  if (signature === undefined || signature === '' || authToken === '') return false;
  // twilio.validateRequest compares in constant time and accepts the port variants Twilio signs with.
  return twilio.validateRequest(authToken, signature, publicUrl, params);
}
