import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Everything another instance may need about a call, shared across the fleet (Redis) or kept in this process
 * (memory, one instance). Every method is async and every entry has a TTL; a store that cannot be reached
 * rejects with {@link StateUnavailableError}, so callers can answer with the busy TwiML (or 503).
 *
 * What the service asks of it besides the calls: is it shared, can it be reached, and (in one process) how
 * many calls were answered whose stream has not started yet, since each of those will take a line.
 */
export type CallStateStore = ProcessCallStateStore | SharedCallStateStore;

/** This process alone keeps the calls (exactly one instance): it sees every token it issued. */
export interface ProcessCallStateStore extends CallStateOperations {
  readonly shared: false;
  /** Calls answered whose stream has not started yet: tokens issued, neither redeemed nor expired. */
  readonly outstandingTokens: number;
}

/**
 * Every instance of a fleet shares the calls. A token issued here may be redeemed by any instance, so the store
 * cannot say how many answered calls will start their stream here (the service counts what it holds for them).
 */
export interface SharedCallStateStore extends CallStateOperations {
  readonly shared: true;
}

export interface CallStateOperations {
  /** False while the store cannot be reached: new calls are refused (busy), calls in progress carry on. */
  readonly available: boolean;
  /**
   * Answers a CallSid once, at the voice webhook. The first answer stores the call's record and issues a
   * single-use stream token (`outcome: 'answered'`: open the call's session). A repeat while that token is
   * unredeemed gets the same token (`'repeat'`: answer the same TwiML, open no new session). A repeat after the
   * token was redeemed, expired unused, or the call ended gets `'refused'`: hang up.
   */
  answer(call: CallRecord): Promise<AnswerResult>;
  /**
   * Consumes the call's token, once across the whole fleet: atomic, with a constant-time compare of the presented
   * token. Undefined for an unknown call, a wrong, expired or already redeemed token.
   */
  redeem(callSid: string, presented: string | undefined): Promise<RedeemedCall | undefined>;
  /**
   * The `<Connect action>` failover: a fresh token for a call whose stream ended without the call being ended on
   * purpose, with `instanceId` (the instance answering the action) as the call's new answering instance. Asked
   * again while that token is unredeemed, it returns the same token (`repeat: true`). Undefined (hang up) for an
   * unknown or expired call or one ended on purpose.
   */
  reissue(callSid: string, instanceId: string): Promise<ReissuedToken | undefined>;
  /**
   * The call's stream ended. `onPurpose`: the agent or caller ended the call (hang up at the `<Connect action>`);
   * otherwise the stream was lost and the action may reconnect it. Any outstanding token is revoked. An ending
   * on purpose is final: a later `markEnded(..., { onPurpose: false })` does not undo it.
   */
  markEnded(callSid: string, ending: { onPurpose: boolean }): Promise<void>;
  /** The call's record and state, or undefined when unknown or expired. */
  get(callSid: string): Promise<CallSnapshot | undefined>;
  /** Stores the latest Gemini session resumption handle (a no-op for an unknown call). */
  saveResumptionHandle(callSid: string, handle: string): Promise<void>;
  /**
   * A value every instance agrees on, e.g. the browser phone's access key: the first instance to ask stores
   * `proposed`; every instance, then and later, gets the stored value. It does not expire; a store that lost it
   * (Redis restarted without persistence) gets it back from the instances holding it, never a new one.
   */
  agreeOn(name: string, proposed: string): Promise<string>;
  /**
   * Twilio's answering-machine verdict for a call we placed: it may come before the call's stream starts, or reach
   * another instance than the one holding the call (a no-op for an unknown call).
   */
  saveAnsweredBy(callSid: string, answeredBy: string): Promise<void>;
  /** A warm transfer under way: what the person called hears first, asked for by whichever instance Twilio reaches. */
  saveTransfer(callSid: string, transfer: WarmTransferRecord): Promise<void>;
  /** The person called took the warm transfer. False for an unknown call or one with no transfer under way. */
  acceptTransfer(callSid: string): Promise<boolean>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** What the webhook learned about a call, and which instance answered it. */
export interface CallRecord {
  callSid: string;
  from: string | undefined;
  to: string | undefined;
  direction: string | undefined;
  /** The agent that takes the call. */
  agent: string;
  /** The instance that answered the webhook (or the latest failover action): the one that pre-opened a session. */
  instanceId: string;
}

export type AnswerResult =
  | { outcome: 'answered'; token: string }
  /** `instanceId`: the instance that answered first, which holds the session opened for the call. */
  | { outcome: 'repeat'; token: string; instanceId: string }
  | { outcome: 'refused' };

export interface RedeemedCall {
  call: CallRecord;
  /** The latest stored Gemini resumption handle: set when this stream continues a call (failover). */
  resumptionHandle: string | undefined;
  /** How many streams have redeemed a token for this call, this one included. */
  streamNumber: number;
  /** The token came from `reissue`: this stream continues a call whose earlier stream was lost. */
  failover: boolean;
}

export interface ReissuedToken {
  token: string;
  call: CallRecord;
  /** The same token as the last reissue, still unredeemed: no new stream is on its way yet. */
  repeat: boolean;
}

export type CallPhase = 'answered' | 'streaming' | 'stream-lost' | 'ended';

/** A warm transfer: the number called and the whisper the person there hears before taking the call. */
export interface WarmTransferRecord {
  to: string;
  whisper: string;
  /** The language of the whisper's `<Say>` (the agent's), when it has one. */
  language?: string;
}

export interface CallSnapshot {
  call: CallRecord;
  /** answered: token out, no stream yet; streaming: a stream redeemed it; stream-lost: ended not on purpose; ended: on purpose. */
  phase: CallPhase;
  resumptionHandle: string | undefined;
  /** Tokens redeemed so far. */
  streams: number;
  /** Tokens issued by `reissue`. */
  reissues: number;
  /** Twilio's `AnsweredBy`, once its verdict came. */
  answeredBy: string | undefined;
  /** The latest warm transfer, and whether the person called took it. */
  transfer: (WarmTransferRecord & { accepted: boolean }) | undefined;
}

/** The store cannot be reached (Redis down, timed out): answer new calls busy, keep calls in progress going. */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface CallStateTtls {
  /** How long an issued stream token stays redeemable. */
  tokenTtlMs: number;
  /** How long a call's record lives after its last change: at least the maximum call duration plus a margin. */
  callTtlMs: number;
}

export const STREAM_TOKEN_TTL_MS = 60_000;
/** Margin added to the maximum call duration for the call record's TTL (failovers, action requests, clock skew). */
export const CALL_RECORD_MARGIN_MS = 15 * 60_000;

export function callStateTtls(maxCallDurationMs: number, tokenTtlMs = STREAM_TOKEN_TTL_MS): CallStateTtls {
  return { tokenTtlMs, callTtlMs: maxCallDurationMs + CALL_RECORD_MARGIN_MS };
}

const TOKEN_BYTES = 32;

export function newStreamToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Constant-time comparison of a presented token with the issued one (both base64url). */
export function tokensMatch(issued: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(issued, 'base64url');
  const candidate = Buffer.from(presented, 'base64url');
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}
