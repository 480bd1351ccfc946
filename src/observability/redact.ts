/**
 * Phone numbers are personal data: logs keep the country-code digit and the last two digits, enough
 * to tell calls apart while debugging, and nothing that identifies the caller.
 */
export function redactPhoneNumber(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 5) return value.startsWith('client:') || value.startsWith('sip:') ? '[redacted]' : value;
  return `+${digits[0]}${'*'.repeat(digits.length - 3)}${digits.slice(-2)}`;
}

// E.164 numbers (+ and 8-15 digits), also when spaced or dashed the way people type them.
const PHONE_NUMBER_PATTERN = /\+\d[\d\s().-]{6,18}\d/g;

/** Replaces every phone number found in free text (log messages, error texts). */
export function redactPhoneNumbersInText(text: string): string {
  return text.replace(PHONE_NUMBER_PATTERN, (match) => redactPhoneNumber(match));
}

/**
 * A failure as someone watching a call (the browser phone's page) may be shown it: the error's first line, with
 * what looks like a key in a URL (the SDK's Live URL carries `?key=`), a bearer token, a Google API key or a phone
 * number masked, cut to 300 characters.
 */
export function describeFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = (text.split('\n')[0] ?? '').trim();
  const masked = redactPhoneNumbersInText(firstLine)
    .replace(/([?&](?:key|access_token|token|api_key)=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/(Bearer\s+)\S+/gi, '$1[redacted]')
    .replace(/\bAIza[0-9A-Za-z_-]{10,}/g, '[redacted]');
  return masked.length > 300 ? `${masked.slice(0, 300)}…` : masked || 'unknown error';
}
