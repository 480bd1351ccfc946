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
