import type { CallStateStore } from '../state/call-state.js';

/** Why a new call is not taken: no line free, the service is stopping, or the shared call state is out of reach. */
export type Refusal = 'busy' | 'draining' | 'state-unavailable';

export interface AdmissionCounts {
  /** Calls with a live stream here. */
  readonly activeCalls: () => number;
  /** Sessions opened at the webhook for calls answered here, waiting for their stream. */
  readonly earlySessions: () => number;
  /** Browser phone sessions issued whose stream has not started. */
  readonly browserSessions: () => number;
  /** Outbound calls being placed or ringing. */
  readonly outboundPending: () => number;
}

/**
 * Whether this instance takes a new call: every call that holds a line counts, not only the ones with a stream,
 * so answering, ringing and placing calls cannot overbook MAX_CONCURRENT_CALLS. Once stopped (a drain, a stop),
 * it refuses for good.
 */
export class Admission {
  private accepting = true;

  constructor(
    private readonly maxConcurrentCalls: number,
    private readonly state: CallStateStore,
    private readonly counts: AdmissionCounts,
  ) {}

  get isAccepting(): boolean {
    return this.accepting;
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /** Undefined: take the call. */
  refusal(): Refusal | undefined {
    if (!this.accepting) return 'draining';
    if (!this.state.available) return 'state-unavailable';
    return this.linesHeld() >= this.maxConcurrentCalls ? 'busy' : undefined;
  }

  /** For `POST /calls` and the browser phone, which answer 503: shared state out of reach is one more reason to be busy. */
  simpleRefusal(): 'busy' | 'draining' | undefined {
    const refusal = this.refusal();
    return refusal === 'state-unavailable' ? 'busy' : refusal;
  }

  private linesHeld(): number {
    // Calls answered here whose stream has not started: in one process, every outstanding token; in a fleet the
    // tokens are shared, so the sessions opened here for them stand in.
    const answeredHere = this.state.shared ? this.counts.earlySessions() : this.state.outstandingTokens;
    return this.counts.activeCalls() + answeredHere + this.counts.browserSessions() + this.counts.outboundPending();
  }
}
