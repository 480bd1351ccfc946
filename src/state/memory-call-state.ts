import {
  newStreamToken,
  tokensMatch,
  type AnswerResult,
  type CallPhase,
  type CallRecord,
  type CallSnapshot,
  type ProcessCallStateStore,
  type CallStateTtls,
  type RedeemedCall,
  type ReissuedToken,
  type WarmTransferRecord,
} from './call-state.js';

interface Entry {
  call: CallRecord;
  phase: CallPhase;
  token: string | undefined;
  tokenExpiresAtMs: number;
  resumptionHandle: string | undefined;
  streams: number;
  /** Tokens issued by `reissue` (failovers). */
  reissues: number;
  answeredBy: string | undefined;
  transfer: (WarmTransferRecord & { accepted: boolean }) | undefined;
  expiresAtMs: number;
}

/** Only signed webhooks add calls, but cap the table anyway so nothing can grow it without bound. */
const MAX_CALLS = 100_000;

/**
 * One process's call state (no REDIS_URL): the semantics of the fleet store, in a Map. Entries are kept in
 * expiry order (re-inserted on every change, all with the same TTL), so sweeping stops at the first live one.
 */
export class MemoryCallStateStore implements ProcessCallStateStore {
  readonly shared = false;
  /** Memory is always there. */
  readonly available = true;
  private readonly calls = new Map<string, Entry>();
  private readonly agreed = new Map<string, string>();

  constructor(
    private readonly ttls: CallStateTtls,
    private readonly now: () => number = Date.now,
    private readonly maxCalls = MAX_CALLS,
  ) {}

  async answer(call: CallRecord): Promise<AnswerResult> {
    const entry = this.live(call.callSid);
    if (entry !== undefined) {
      if (entry.phase === 'answered' && entry.reissues === 0 && this.tokenLive(entry)) return { outcome: 'repeat', token: entry.token!, instanceId: entry.call.instanceId };
      return { outcome: 'refused' };
    }
    const token = newStreamToken();
    this.put({ call: { ...call }, phase: 'answered', token, tokenExpiresAtMs: this.now() + this.ttls.tokenTtlMs, resumptionHandle: undefined, streams: 0, reissues: 0, answeredBy: undefined, transfer: undefined, expiresAtMs: 0 });
    return { outcome: 'answered', token };
  }

  async redeem(callSid: string, presented: string | undefined): Promise<RedeemedCall | undefined> {
    const entry = this.live(callSid);
    if (entry === undefined || !this.tokenLive(entry) || !tokensMatch(entry.token!, presented)) return undefined;
    entry.token = undefined;
    entry.phase = 'streaming';
    entry.streams += 1;
    this.put(entry);
    return { call: { ...entry.call }, resumptionHandle: entry.resumptionHandle, streamNumber: entry.streams, failover: entry.reissues > 0 };
  }

  async reissue(callSid: string, instanceId: string): Promise<ReissuedToken | undefined> {
    const entry = this.live(callSid);
    if (entry === undefined || entry.phase === 'ended') return undefined;
    if (entry.phase === 'answered' && entry.reissues > 0 && this.tokenLive(entry)) {
      return { token: entry.token!, call: { ...entry.call }, repeat: true };
    }
    entry.token = newStreamToken();
    entry.tokenExpiresAtMs = this.now() + this.ttls.tokenTtlMs;
    entry.phase = 'answered';
    entry.call = { ...entry.call, instanceId };
    entry.reissues += 1;
    this.put(entry);
    return { token: entry.token, call: { ...entry.call }, repeat: false };
  }

  async markEnded(callSid: string, { onPurpose }: { onPurpose: boolean }): Promise<void> {
    const entry = this.live(callSid);
    if (entry === undefined) return;
    entry.token = undefined;
    if (entry.phase !== 'ended') entry.phase = onPurpose ? 'ended' : 'stream-lost';
    this.put(entry);
  }

  async get(callSid: string): Promise<CallSnapshot | undefined> {
    const entry = this.live(callSid);
    if (entry === undefined) return undefined;
    const { phase, resumptionHandle, streams, reissues, answeredBy, transfer } = entry;
    return { call: { ...entry.call }, phase, resumptionHandle, streams, reissues, answeredBy, transfer: transfer === undefined ? undefined : { ...transfer } };
  }

  async saveResumptionHandle(callSid: string, handle: string): Promise<void> {
    this.update(callSid, (entry) => (entry.resumptionHandle = handle));
  }

  async saveAnsweredBy(callSid: string, answeredBy: string): Promise<void> {
    this.update(callSid, (entry) => (entry.answeredBy = answeredBy));
  }

  async saveTransfer(callSid: string, transfer: WarmTransferRecord): Promise<void> {
    this.update(callSid, (entry) => (entry.transfer = { ...transfer, accepted: false }));
  }

  async acceptTransfer(callSid: string): Promise<boolean> {
    const transfer = this.live(callSid)?.transfer;
    if (transfer === undefined) return false;
    this.update(callSid, () => (transfer.accepted = true));
    return true;
  }

  async agreeOn(name: string, proposed: string): Promise<string> {
    if (!this.agreed.has(name)) this.agreed.set(name, proposed);
    return this.agreed.get(name)!;
  }

  async close(): Promise<void> {
    this.calls.clear();
  }

  /** Calls answered whose stream has not started yet (tokens still redeemable). */
  get outstandingTokens(): number {
    this.sweep();
    let count = 0;
    for (const entry of this.calls.values()) if (this.tokenLive(entry)) count++;
    return count;
  }

  /** Changes a known call (a no-op for an unknown one), with a fresh TTL. */
  private update(callSid: string, change: (entry: Entry) => void): void {
    const entry = this.live(callSid);
    if (entry === undefined) return;
    change(entry);
    this.put(entry);
  }

  private tokenLive(entry: Entry): boolean {
    return entry.token !== undefined && entry.tokenExpiresAtMs > this.now();
  }

  private live(callSid: string): Entry | undefined {
    this.sweep();
    return this.calls.get(callSid);
  }

  /** (Re)inserts at the end: a fresh TTL, and Map order stays expiry order. */
  private put(entry: Entry): void {
    entry.expiresAtMs = this.now() + this.ttls.callTtlMs;
    this.calls.delete(entry.call.callSid);
    if (this.calls.size >= this.maxCalls) {
      const oldest = this.calls.keys().next();
      if (!oldest.done) this.calls.delete(oldest.value);
    }
    this.calls.set(entry.call.callSid, entry);
  }

  private sweep(): void {
    const now = this.now();
    for (const [callSid, entry] of this.calls) {
      if (entry.expiresAtMs > now) break;
      this.calls.delete(callSid);
    }
  }
}
