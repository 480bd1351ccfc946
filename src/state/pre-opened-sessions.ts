/**
 * Bookkeeping for sessions opened at the webhook before their stream arrives (the instant greeting). A session
 * costs money from the moment it opens, so the table is capped overall, and a session whose stream does not come
 * within `timeoutMs` (the stream went to another instance, or never started) is closed.
 */
export interface PreOpenedSessionsOptions<T> {
  /** At most this many sessions wait for their streams at once; beyond it calls are answered without one. */
  maxSessions: number;
  /** A session not taken by its stream within this time is closed. */
  timeoutMs: number;
  /** Closes a session that will not be used. */
  close: (session: T, reason: PreOpenedCloseReason) => void;
  /** A session timed out unused (e.g. to log or count it). */
  onExpired?: (callSid: string) => void;
}

export type PreOpenedCloseReason = 'expired' | 'closed';

export class PreOpenedSessions<T> {
  private readonly sessions = new Map<string, { session: T; timer: NodeJS.Timeout }>();

  constructor(private readonly options: PreOpenedSessionsOptions<T>) {}

  /**
   * Opens (with `open`) and holds a session for the call, unless the table is full (undefined: answer without a
   * pre-opened session; the stream opens its own). A call that already has one keeps it: nothing new is opened.
   */
  add(callSid: string, open: () => T): T | undefined {
    const existing = this.sessions.get(callSid);
    if (existing !== undefined) return existing.session;
    if (this.sessions.size >= this.options.maxSessions) return undefined;
    const session = open();
    const timer = setTimeout(() => {
      const entry = this.sessions.get(callSid);
      if (entry === undefined) return;
      this.sessions.delete(callSid);
      this.options.onExpired?.(callSid);
      this.options.close(entry.session, 'expired');
    }, this.options.timeoutMs);
    timer.unref();
    this.sessions.set(callSid, { session, timer });
    return session;
  }

  /** The call's stream arrived here: hands its session over, once (undefined: none waits on this instance). */
  take(callSid: string): T | undefined {
    const entry = this.sessions.get(callSid);
    if (entry === undefined) return undefined;
    clearTimeout(entry.timer);
    this.sessions.delete(callSid);
    return entry.session;
  }

  has(callSid: string): boolean {
    return this.sessions.has(callSid);
  }

  /** Closes every waiting session (shutdown). */
  closeAll(): void {
    for (const [callSid, entry] of [...this.sessions]) {
      clearTimeout(entry.timer);
      this.sessions.delete(callSid);
      this.options.close(entry.session, 'closed');
    }
  }

  get size(): number {
    return this.sessions.size;
  }
}
