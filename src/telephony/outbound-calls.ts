import { createTwilioClient, E164_PATTERN, toTwilioRestError, type TwilioRestError, type TwilioRestOptions } from './twilio-rest.js';
import { AGENT_QUERY_PARAMETER, VOICE_WEBHOOK_PATH } from './routes.js';

import { AMD_STATUS_PATH, CALL_STATUS_PATH } from './routes.js';

export { CALL_STATUS_PATH, OUTBOUND_CALLS_PATH } from './routes.js';
/** The progress Twilio reports to CALL_STATUS_PATH (without a list it reports only `completed`). */
export const CALL_STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;
/**
 * How long Twilio lets a placed call ring (its default is 60 s). Shorter, because a ringing call holds a place
 * against MAX_CONCURRENT_CALLS, and a person who has not answered in 30 s is not coming to the phone.
 */
export const OUTBOUND_RING_TIMEOUT_SECONDS = 30;

export interface PlacedOutboundCall {
  callSid: string;
  /** Twilio's status for the new call, normally `queued`. */
  status: string;
}

export interface OutboundCallPlacer {
  /**
   * Asks Twilio to call `to` from our number; Twilio fetches PUBLIC_URL/voice?agent=<agent> once the callee
   * answers (the query is part of what Twilio signs, so the agent cannot be swapped on the way).
   */
  place(to: string, agent: string): Promise<PlacedOutboundCall>;
}

export type OutboundCallFailure =
  /** The number is malformed, or Twilio says it is not a valid or reachable number. */
  | 'invalid-number'
  /** Twilio will not call it from this account: geographic permissions, a trial account's unverified number, premium. */
  | 'number-not-allowed'
  /** TWILIO_PHONE_NUMBER is not a number of this account (or a verified caller ID). */
  | 'from-number'
  | 'credentials'
  | 'rate-limited'
  | 'twilio-unreachable'
  | 'twilio-error';

/** Why a call could not be placed, worded for the operator; nothing of the credentials in it. */
export class OutboundCallError extends Error {
  constructor(
    message: string,
    readonly reason: OutboundCallFailure,
    readonly twilioCode?: number,
  ) {
    super(message);
    this.name = 'OutboundCallError';
  }
}

export interface OutboundCallPlacerOptions {
  rest: TwilioRestOptions;
  /** TWILIO_PHONE_NUMBER: the caller ID, a number of the account. */
  from: string;
  /** PUBLIC_URL: Twilio fetches `/voice` and reports to `/call-status` (and `/amd-status`) under it. */
  publicUrl: URL;
  /** OUTBOUND_MACHINE_DETECTION: ask Twilio for its answering-machine verdict (charged per call). */
  machineDetection: boolean;
}

/**
 * Twilio's answering machine detection, asynchronous: the call is connected at once (our stream starts, the callee
 * hears nothing until the agent is released) and the verdict comes to AMD_STATUS_PATH; `DetectMessageEnd` reports a
 * machine once its greeting has ended, when a voicemail can be left
 * (https://www.twilio.com/docs/voice/answering-machine-detection).
 */
function machineDetectionParameters(publicUrl: URL) {
  return { machineDetection: 'DetectMessageEnd', asyncAmd: 'true', asyncAmdStatusCallback: `${publicUrl.origin}${AMD_STATUS_PATH}`, asyncAmdStatusCallbackMethod: 'POST' };
}

/** What is wrong with `to` as a number to call from `from`, or undefined when nothing is. */
export function outboundNumberProblem(to: unknown, from: string): string | undefined {
  if (typeof to !== 'string' || to === '') return 'the number to call is required, in E.164 format, e.g. +14155550100';
  if (!E164_PATTERN.test(to)) return 'the number to call must be in E.164 format: + and country code, digits only, e.g. +14155550100';
  if (to === from) return 'the number to call is our own number (TWILIO_PHONE_NUMBER)';
  return undefined;
}

export function createOutboundCallPlacer({ rest, from, publicUrl, machineDetection }: OutboundCallPlacerOptions): OutboundCallPlacer {
  const client = createTwilioClient(rest);
  return {
    async place(to, agent) {
      const problem = outboundNumberProblem(to, from);
      if (problem !== undefined) throw new OutboundCallError(capitalize(problem), 'invalid-number');
      try {
        const call = await client.calls.create({
          to,
          from,
          // Twilio fetches the TwiML once the callee answers: the same signed webhook as an inbound call, with
          // Direction=outbound-api, which is how the agent knows it placed the call.
          url: `${publicUrl.origin}${VOICE_WEBHOOK_PATH}?${AGENT_QUERY_PARAMETER}=${encodeURIComponent(agent)}`,
          method: 'POST',
          statusCallback: `${publicUrl.origin}${CALL_STATUS_PATH}`,
          statusCallbackMethod: 'POST',
          statusCallbackEvent: [...CALL_STATUS_EVENTS],
          timeout: OUTBOUND_RING_TIMEOUT_SECONDS,
          ...(machineDetection ? machineDetectionParameters(publicUrl) : {}),
        });
        return { callSid: call.sid, status: call.status };
      } catch (error) {
        throw describePlacementFailure(toTwilioRestError(error), from);
      }
    },
  };
}

/** Twilio's refusals of `calls.create` that operators meet, with what to do about each. */
function describePlacementFailure(error: TwilioRestError, from: string): OutboundCallError {
  const { code, status } = error;
  const twilioSays = `Twilio refused the call${code === undefined ? '' : ` (error ${code})`}: ${error.message}`;
  switch (code) {
    case 21211: // invalid 'To' number
    case 21214: // 'To' number cannot be reached
    case 21217: // not a valid phone number
      return new OutboundCallError(twilioSays, 'invalid-number', code);
    case 21215:
      return new OutboundCallError(`${twilioSays}. Allow the destination country in the Twilio console: Voice → Settings → Geo permissions.`, 'number-not-allowed', code);
    case 21216:
      return new OutboundCallError(`${twilioSays}. The account may not call premium-rate or blocked numbers.`, 'number-not-allowed', code);
    case 21219:
      return new OutboundCallError(`${twilioSays}. A trial account can only call verified numbers: add it under Phone Numbers → Verified Caller IDs, or upgrade the account.`, 'number-not-allowed', code);
    case 21210:
    case 21212:
      return new OutboundCallError(`${twilioSays}. TWILIO_PHONE_NUMBER (${from}) must be a voice-capable number of this account.`, 'from-number', code);
    case 20003:
      return new OutboundCallError(`${twilioSays}. Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.`, 'credentials', code);
    case 20429:
      return new OutboundCallError(twilioSays, 'rate-limited', code);
  }
  if (status === 401) return new OutboundCallError(`${twilioSays}. Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.`, 'credentials', code);
  if (status === 429) return new OutboundCallError(twilioSays, 'rate-limited', code);
  if (status === undefined) return new OutboundCallError(error.message, 'twilio-unreachable');
  return new OutboundCallError(twilioSays, 'twilio-error', code);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Call statuses after which a placed call will never reach the voice webhook. */
const FINAL_CALL_STATUSES = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

export function isFinalCallStatus(status: string | undefined): boolean {
  return status !== undefined && FINAL_CALL_STATUSES.has(status);
}

/**
 * Outbound calls being placed or ringing. Each holds a place against MAX_CONCURRENT_CALLS until it is answered (its
 * webhook then issues a stream token, which holds the place), ends unanswered, or has rung for longer than Twilio
 * lets it (a status callback that never came must not hold a place for ever).
 */
export class PendingOutboundCalls {
  private placing = 0;
  private readonly ringing = new Map<string, number>();

  constructor(
    private readonly holdMs = (OUTBOUND_RING_TIMEOUT_SECONDS + 30) * 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  get count(): number {
    const now = this.now();
    for (const [callSid, expiresAtMs] of this.ringing) if (expiresAtMs <= now) this.ringing.delete(callSid);
    return this.placing + this.ringing.size;
  }

  /** Holds a place while Twilio is asked to place the call; exactly one of the two outcomes must follow. */
  reserve(): { placed(callSid: string): void; failed(): void } {
    this.placing++;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.placing--;
      return true;
    };
    return {
      placed: (callSid) => {
        if (settle()) this.ringing.set(callSid, this.now() + this.holdMs);
      },
      failed: () => void settle(),
    };
  }

  /** The call was answered or ended: it no longer waits for a place. Unknown SIDs are ignored. */
  release(callSid: string): void {
    this.ringing.delete(callSid);
  }
}

/**
 * At most `limit` events in any rolling `windowMs`. Placing calls costs money and reaches real people, so even a
 * valid key gets a bounded rate.
 */
export class RollingWindowLimit {
  private readonly taken: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a slot, or says how long until one frees up. */
  take(): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const now = this.now();
    while (this.taken.length > 0 && (this.taken[0] as number) <= now - this.windowMs) this.taken.shift();
    if (this.taken.length >= this.limit) return { allowed: false, retryAfterMs: (this.taken[0] as number) + this.windowMs - now };
    this.taken.push(now);
    return { allowed: true };
  }
}
