import type { TwilioCallParameters } from '../domain/call-details.js';
import { newStreamToken, STREAM_TOKEN_TTL_MS, tokensMatch } from '../state/call-state.js';

/** What the webhook learned about a call, handed to the media stream that redeems its token. */
export interface CallInfo extends TwilioCallParameters {
  /** The agent that answers the call. */
  agent: string;
}

interface IssuedToken {
  token: string;
  call: CallInfo;
  expiresAtMs: number;
}

/** Only signed webhooks issue tokens, but cap the table anyway so nothing can grow it without bound. */
const MAX_OUTSTANDING_TOKENS = 10_000;

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
    const token = newStreamToken();
    this.tokens.delete(call.callSid); // re-insert so Map order stays oldest-first
    this.tokens.set(call.callSid, { token, call, expiresAtMs: this.now() + this.ttlMs });
    return token;
  }

  /** Consumes the call's token. Returns the call's details only for a valid, unexpired, unused token. */
  redeem(callSid: string, presented: string | undefined): CallInfo | undefined {
    const issued = this.tokens.get(callSid);
    if (issued === undefined || presented === undefined) return undefined;
    if (issued.expiresAtMs <= this.now()) {
      this.tokens.delete(callSid);
      return undefined;
    }
    if (!tokensMatch(issued.token, presented)) return undefined;
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
