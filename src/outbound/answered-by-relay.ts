import type { TwilioAnsweredBy } from '../domain/answered-by.js';
import { isTwilioAnsweredBy } from '../domain/answered-by.js';
import type { Logger } from '../observability/logger.js';
import type { CallStateStore } from '../state/call-state.js';

/** How often a call in a fleet looks for a verdict that reached another instance. */
export const ANSWERED_BY_POLL_MS = 250;
/**
 * How long it looks: Twilio's detection times out after 30 s by default (`MachineDetectionTimeout`,
 * https://www.twilio.com/docs/voice/answering-machine-detection), plus the callback's way to us.
 */
export const ANSWERED_BY_WAIT_MS = 35_000;

/** A call that takes Twilio's verdict (a PhoneCall). */
export interface VerdictTaker {
  onTwilioAnsweredBy(answeredBy: TwilioAnsweredBy): void;
}

/**
 * Twilio posts its answering-machine verdict to whichever instance its request reaches; the call lives on one of
 * them, and its stream may not have started yet. The verdict goes to the call when it lives here, and always into the
 * shared call state; a call that starts here looks there for a verdict that came first, and, when the state is
 * shared by a fleet, every ANSWERED_BY_POLL_MS for ANSWERED_BY_WAIT_MS for one that reached another instance. Each
 * call takes its verdict once.
 */
export class AnsweredByRelay {
  private readonly delivered = new Map<string, TwilioAnsweredBy>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deps: {
      state: Pick<CallStateStore, 'get' | 'saveAnsweredBy'>;
      /** The fleet shares the state (Redis): another instance may hold the verdict. */
      shared: boolean;
      /** The call with this SID, while it lives on this instance (undefined once it has ended). */
      liveCall: (callSid: string) => VerdictTaker | undefined;
      log: Logger;
      pollMs?: number;
      waitMs?: number;
    },
  ) {}

  /** Twilio's AMD callback reached this instance. */
  received(callSid: string, answeredBy: TwilioAnsweredBy): void {
    this.deliver(callSid, answeredBy);
    this.deps.state.saveAnsweredBy(callSid, answeredBy).catch((error: unknown) => this.deps.log.warn({ err: error, callSid }, "could not share Twilio's answering machine verdict"));
  }

  /** A call we placed started here: give it a verdict that came first, and in a fleet keep looking for one. */
  watch(callSid: string): void {
    const startedAtMs = Date.now();
    const look = (): void => {
      void this.deps.state.get(callSid).then(
        (snapshot) => {
          if (isTwilioAnsweredBy(snapshot?.answeredBy)) this.deliver(callSid, snapshot.answeredBy);
          this.again(callSid, startedAtMs, look);
        },
        () => this.again(callSid, startedAtMs, look),
      );
    };
    look();
  }

  /** The call ended: nothing more to give it. */
  forget(callSid: string): void {
    this.delivered.delete(callSid);
  }

  /** Stops looking (shutdown). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private again(callSid: string, startedAtMs: number, look: () => void): void {
    const call = this.deps.liveCall(callSid);
    const waiting = this.deps.shared && call !== undefined && !this.delivered.has(callSid);
    if (!waiting || Date.now() - startedAtMs >= (this.deps.waitMs ?? ANSWERED_BY_WAIT_MS)) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      look();
    }, this.deps.pollMs ?? ANSWERED_BY_POLL_MS);
    timer.unref();
    this.timers.add(timer);
  }

  private deliver(callSid: string, answeredBy: TwilioAnsweredBy): void {
    const call = this.deps.liveCall(callSid);
    if (call === undefined || this.delivered.get(callSid) === answeredBy) return;
    this.delivered.set(callSid, answeredBy);
    call.onTwilioAnsweredBy(answeredBy);
  }
}
