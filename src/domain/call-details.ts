import { isE164 } from './identifiers.js';

/** Twilio's `Direction` for a call we placed through the REST API (`calls.create`). */
export const OUTBOUND_API_DIRECTION = 'outbound-api';

/**
 * Who is on a phone call and which way it goes: what an agent's instructions, its tools and its listeners
 * see of a call. Phone numbers are personal data: never log them in clear.
 */
export interface CallDetails {
  /** Twilio's CallSid (`CA` + 32 hex digits). */
  readonly callSid: string;
  /** `inbound`: someone called us. `outbound`: we placed the call (`POST /calls`, `npm run call`). */
  readonly direction: 'inbound' | 'outbound';
  /** Twilio's `From`: the caller's number on an inbound call, our own number on an outbound one. */
  readonly from: string | undefined;
  /** Twilio's `To`: our number on an inbound call, the person we called on an outbound one. */
  readonly to: string | undefined;
  /**
   * The person on the line, in E.164 form: the caller of an inbound call, the callee of a call we placed.
   * Undefined when withheld or not a phone number (a SIP or client identity). Caller ID can be spoofed:
   * never treat it as proof of identity.
   */
  readonly callerNumber: string | undefined;
  /** The name of the agent answering the call. */
  readonly agent: string;
}

/** What the webhook learned about a call: Twilio's own values, before we interpret them. */
export interface TwilioCallParameters {
  callSid: string;
  from: string | undefined;
  to: string | undefined;
  /** Twilio's `Direction`: `inbound`, `outbound-api`, `outbound-dial`. */
  direction: string | undefined;
}

export function isOutboundCall(call: Pick<TwilioCallParameters, 'direction'>): boolean {
  return call.direction === OUTBOUND_API_DIRECTION;
}

/**
 * The phone number of the person on the line: on an outbound-api call Twilio's `From` is our own number and
 * `To` the person we called. Undefined when that is not an E.164 number.
 */
export function otherPartyNumber(call: Pick<TwilioCallParameters, 'direction' | 'from' | 'to'>): string | undefined {
  const number = isOutboundCall(call) ? call.to : call.from;
  return isE164(number) ? number : undefined;
}

export function callDetails(call: TwilioCallParameters, agent: string): CallDetails {
  return Object.freeze({
    callSid: call.callSid,
    direction: isOutboundCall(call) ? 'outbound' : 'inbound',
    from: call.from,
    to: call.to,
    callerNumber: otherPartyNumber(call),
    agent,
  });
}
