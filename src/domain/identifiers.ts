/**
 * The shapes of Twilio identifiers, phone numbers and language tags, defined once. Twilio SIDs are two letters and 32 hex
 * digits (https://www.twilio.com/docs/glossary/what-is-a-sid); E.164 is a plus sign and up to 15 digits, the
 * first not zero (ITU-T E.164; https://www.twilio.com/docs/glossary/what-e164).
 */
export const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;
export const STREAM_SID_PATTERN = /^MZ[0-9a-fA-F]{32}$/;
export const ACCOUNT_SID_PATTERN = /^AC[0-9a-fA-F]{32}$/;
export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

export function isCallSid(value: unknown): value is string {
  return typeof value === 'string' && CALL_SID_PATTERN.test(value);
}

export function isE164(value: unknown): value is string {
  return typeof value === 'string' && E164_PATTERN.test(value);
}

/** How an E.164 problem is told to a person, with an example. */
export const E164_HINT = 'an E.164 phone number: + and country code, digits only, e.g. +14155550100';

/** A BCP-47 language tag as agents give them: a language, then subtags (`en`, `en-US`, `zh-Hant-TW`; RFC 5646). */
export const LANGUAGE_TAG_PATTERN = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
