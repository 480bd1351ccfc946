import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { TwilioCallParameters } from '../domain/call-details.js';

/** What the webhook learned about a call, handed to the media stream that redeems its token. */
export interface CallInfo extends TwilioCallParameters {
  /** The agent that answers the call. */
  agent: string;
}

interface IssuedToken {
  token: Buffer;
  call: CallInfo;
  expiresAtMs: number;
}

export const STREAM_TOKEN_TTL_MS = 60_000;
/** Only signed webhooks issue tokens, but cap the table anyway so nothing can grow it without bound. */
const MAX_OUTSTANDING_TOKENS = 10_000;
const TOKEN_BYTES = 32;

/**
 * Per-call, single-use, short-lived tokens. The webhook issues one into the TwiML as a `<Parameter>`;
 * the media stream must present it in its `start` event with the same CallSid before any Gemini
 * session is opened. The upgrade's signature alone cannot bind a socket to a call: it covers only the
 * fixed stream URL, so a captured header could be replayed.
 */
export class StreamTokenStore {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(
    private readonly ttlMs = STREAM_TOKEN_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh token for the call; a retried webhook for the same call replaces the earlier token. */
  issue(call: CallInfo): string {
    this.sweepExpired();
    if (this.tokens.size >= MAX_OUTSTANDING_TOKENS) {
      const oldest = this.tokens.keys().next();
      if (!oldest.done) this.tokens.delete(oldest.value);
    }
    const token = randomBytes(TOKEN_BYTES);
    this.tokens.delete(call.callSid); // re-insert so Map order stays oldest-first
    this.tokens.set(call.callSid, { token, call, expiresAtMs: this.now() + this.ttlMs });
    return token.toString('base64url');
  }

  /** Consumes the call's token. Returns the call's details only for a valid, unexpired, unused token. */
  redeem(callSid: string, presented: string | undefined): CallInfo | undefined {
    const issued = this.tokens.get(callSid);
    if (issued === undefined || presented === undefined) return undefined;
    if (issued.expiresAtMs <= this.now()) {
      this.tokens.delete(callSid);
      return undefined;
    }
    const candidate = Buffer.from(presented, 'base64url');
    if (candidate.length !== issued.token.length || !timingSafeEqual(candidate, issued.token)) return undefined;
    this.tokens.delete(callSid);
    return issued.call;
  }

  /** Tokens issued and still usable: calls answered whose stream has not started yet. */
  get outstanding(): number {
    this.sweepExpired();
    return this.tokens.size;
  }

  private sweepExpired(): void {
    const now = this.now();
    for (const [callSid, issued] of this.tokens) {
      if (issued.expiresAtMs > now) break; // insertion order = expiry order
      this.tokens.delete(callSid);
    }
  }
}
