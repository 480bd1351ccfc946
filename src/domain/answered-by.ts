/**
 * Who answered an outbound call: the verdict's vocabulary, shared by the detector (src/outbound), the call's events
 * and summary (src/observability) and Twilio's AMD callback (src/telephony).
 */

/** Twilio's `AnsweredBy` values for asynchronous detection (https://www.twilio.com/docs/voice/answering-machine-detection). */
export const TWILIO_ANSWERED_BY = ['human', 'machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax', 'unknown'] as const;
export type TwilioAnsweredBy = (typeof TWILIO_ANSWERED_BY)[number];

export function isTwilioAnsweredBy(value: unknown): value is TwilioAnsweredBy {
  return typeof value === 'string' && (TWILIO_ANSWERED_BY as readonly string[]).includes(value);
}

export type CalleeKind = 'human' | 'machine' | 'fax' | 'screener' | 'unknown';

/** What decided (or reported) a verdict. */
export type VerdictSignal = 'twilio' | 'beep' | 'fax-tone' | 'transcript' | 'short-greeting' | 'long-greeting' | 'silence' | 'greeting-end' | 'timeout';

export interface CalleeVerdict {
  answeredBy: CalleeKind;
  decidedBy: VerdictSignal;
  /** Milliseconds since the callee's audio started (the media stream). */
  atMs: number;
}
