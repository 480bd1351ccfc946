import type { CallInfo } from './stream-tokens.js';
import { E164_PATTERN } from './twilio-rest.js';

/** Twilio's `Direction` for a call we placed through the REST API (`calls.create`). */
export const OUTBOUND_API_DIRECTION = 'outbound-api';

/** The call was placed by us (`npm run call`, `POST /calls`), so the agent speaks first and says why it called. */
export function isOutboundCall(call: Pick<CallInfo, 'direction'>): boolean {
  return call.direction === OUTBOUND_API_DIRECTION;
}

/**
 * The phone number of the person on the line: the caller of an inbound call, the callee of a call we placed (on
 * an outbound-api call Twilio's `From` is our own number and `To` the person we called). Undefined when that is
 * not an E.164 number: withheld, or a SIP or client identity.
 */
export function otherPartyNumber(call: Pick<CallInfo, 'direction' | 'from' | 'to'>): string | undefined {
  const number = isOutboundCall(call) ? call.to : call.from;
  return number !== undefined && E164_PATTERN.test(number) ? number : undefined;
}
