import type { EndReason } from '../domain/end-reasons.js';
import { listenerFor, type CallEvent as CallStreamEvent, type CallEventListener } from '../observability/call-events.js';

/**
 * What the page is told of a call, as it happens: the call's event stream without the audio, in the shapes
 * the page (public/browser-phone/phone.js) reads.
 */
export type CallEvent =
  | { type: 'started'; callSid: string }
  /** A transcript fragment: fragments of one turn concatenate (they carry their own leading spaces). */
  | { type: 'transcript'; speaker: 'caller' | 'agent'; text: string }
  | { type: 'latency'; responseMs: number }
  | { type: 'interrupted'; turn: number; sentMs: number; heardMs: number }
  | { type: 'turnComplete'; interrupted: boolean }
  | { type: 'toolCall'; id: string; name: string; args: Record<string, unknown> }
  /** `result` is the answer sent to the model, as JSON cut to a few hundred characters. */
  | { type: 'toolResult'; id: string; name: string; ok: boolean; durationMs: number; result: string }
  /** `detail`: why the call failed, when it did (already masked: describeFailure). */
  | { type: 'ended'; reason: EndReason; detail?: string; summary: Record<string, unknown> };

export interface CallObserver {
  onCallEvent(event: CallEvent): void;
}

/** A call's events, stamped with milliseconds since the call started. */
export type TimedCallEvent = CallEvent & { atMs: number };

/** A tool answer shown on the page is cut to this many characters. */
const SHOWN_RESULT_CHARS = 600;

/** Subscribes a page observer to a call's event stream: what the page shows, nothing else. */
export function pageEventsListener(callSid: string, observer: CallObserver): CallEventListener {
  return listenerFor(SHOWN_EVENTS, (event) => observer.onCallEvent(toPageEvent(callSid, event)));
}

/** The call events the page is told of. */
const SHOWN_EVENTS = ['started', 'transcript', 'latency', 'toolCall', 'bargeIn', 'agentTurnEnded', 'toolResult', 'ended'] as const;

function toPageEvent(callSid: string, event: Extract<CallStreamEvent, { type: (typeof SHOWN_EVENTS)[number] }>): CallEvent {
  switch (event.type) {
    case 'started':
      return { type: 'started', callSid };
    case 'transcript':
    case 'latency':
    case 'toolCall':
      return event;
    case 'bargeIn':
      return { type: 'interrupted', turn: event.turn, sentMs: event.sentMs, heardMs: event.heardMs };
    case 'agentTurnEnded':
      return { type: 'turnComplete', interrupted: event.interrupted };
    case 'toolResult': {
      const result = JSON.stringify(event.response);
      return {
        type: 'toolResult',
        id: event.id,
        name: event.name,
        ok: event.ok,
        durationMs: event.durationMs,
        result: result.length > SHOWN_RESULT_CHARS ? `${result.slice(0, SHOWN_RESULT_CHARS)}…` : result,
      };
    }
    case 'ended':
      return { type: 'ended', reason: event.reason, ...(event.detail === undefined ? {} : { detail: event.detail }), summary: { ...event.summary } };
  }
}

/** Events kept per call for a page that subscribes late (or reconnects); a long call drops its oldest. */
const MAX_HISTORY_EVENTS = 1_000;
/** After its end, a call's events stay this long, so the page still gets the summary. */
const KEEP_ENDED_CALL_MS = 60_000;
/** Calls whose events are kept at once; sessions never redeemed would otherwise accumulate. */
const MAX_TRACKED_CALLS = 1_000;

interface Subscriber {
  onEvent(event: TimedCallEvent): void;
  onEnd(): void;
}

interface TrackedCall {
  startedAtMs: number;
  history: TimedCallEvent[];
  subscribers: Set<Subscriber>;
  ended: boolean;
}

/**
 * The browser phone's side channel: each browser call's events, fanned out to the page's subscriptions
 * (`GET /phone/events/:callSid`). A subscriber first gets what happened so far, then each event as it happens.
 */
export class CallEventHub {
  private readonly calls = new Map<string, TrackedCall>();

  /**
   * Starts tracking a call (when its browser session is issued); returns what the call reports to. A call
   * that has not started within `unusedAfterMs` (its session expired unused) is forgotten.
   */
  track(callSid: string, unusedAfterMs: number): CallObserver {
    if (this.calls.size >= MAX_TRACKED_CALLS) {
      const oldest = this.calls.keys().next();
      if (!oldest.done) this.forget(oldest.value);
    }
    const call: TrackedCall = { startedAtMs: Date.now(), history: [], subscribers: new Set(), ended: false };
    this.calls.set(callSid, call);
    setTimeout(() => {
      if (this.calls.get(callSid) === call && call.history.length === 0) this.forget(callSid);
    }, unusedAfterMs).unref();
    return { onCallEvent: (event) => this.publish(callSid, call, event) };
  }

  /** The observer of a tracked call, or undefined when the call is not (any more) tracked. */
  observerFor(callSid: string): CallObserver | undefined {
    const call = this.calls.get(callSid);
    return call === undefined ? undefined : { onCallEvent: (event) => this.publish(callSid, call, event) };
  }

  /**
   * Replays the call's events to `listener`, then follows it; `onEnd` runs once the call has ended (after
   * its `ended` event) or is forgotten. Returns the unsubscribe function, or undefined for an unknown call.
   */
  subscribe(callSid: string, listener: (event: TimedCallEvent) => void, onEnd: () => void): (() => void) | undefined {
    const call = this.calls.get(callSid);
    if (call === undefined) return undefined;
    for (const event of call.history) listener(event);
    if (call.ended) {
      onEnd();
      return () => {};
    }
    const subscriber: Subscriber = { onEvent: listener, onEnd };
    call.subscribers.add(subscriber);
    return () => call.subscribers.delete(subscriber);
  }

  /** Ends every subscription (server stopping). */
  close(): void {
    for (const callSid of [...this.calls.keys()]) this.forget(callSid);
  }

  private publish(callSid: string, call: TrackedCall, event: CallEvent): void {
    if (this.calls.get(callSid) !== call || call.ended) return;
    const timed = { ...event, atMs: Date.now() - call.startedAtMs } as TimedCallEvent;
    call.history.push(timed);
    if (call.history.length > MAX_HISTORY_EVENTS) call.history.shift();
    for (const subscriber of [...call.subscribers]) subscriber.onEvent(timed);
    if (event.type === 'ended') {
      call.ended = true;
      for (const subscriber of [...call.subscribers]) subscriber.onEnd();
      call.subscribers.clear();
      setTimeout(() => {
        if (this.calls.get(callSid) === call) this.calls.delete(callSid);
      }, KEEP_ENDED_CALL_MS).unref();
    }
  }

  private forget(callSid: string): void {
    const call = this.calls.get(callSid);
    if (call === undefined) return;
    this.calls.delete(callSid);
    for (const subscriber of [...call.subscribers]) subscriber.onEnd();
    call.subscribers.clear();
  }
}
