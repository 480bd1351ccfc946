import { listenerExcept, type CallEvent, type CallEventListener } from './call-events.js';
import { HeardLatencyTracker, type BargeInTiming, type TurnLatency } from './heard-latency.js';

/** A call's events, with what the heard-latency tracker derives from them. */
export type ObservedEvent = CallEvent | { type: 'turnLatency'; latency: TurnLatency } | { type: 'bargeInTiming'; timing: BargeInTiming };

/** Something that follows a call's observed events; `atMs` is the time since the call started. */
export type CallObserver = (event: ObservedEvent, atMs: number) => void;

/**
 * One listener on the call's event stream for the observers that keep what happened (history, metrics, traces):
 * each event is stamped once on one clock, and the latencies are derived once for all of them. An observer that
 * throws is reported and the others still get the event.
 */
export function observeCall(observers: readonly CallObserver[], onError: (error: unknown, event: ObservedEvent) => void, now: () => number = () => performance.now()): CallEventListener {
  const startedAtMs = now();
  const deliver = (event: ObservedEvent): void => {
    const atMs = now() - startedAtMs;
    for (const observer of observers) {
      try {
        observer(event, atMs);
      } catch (error) {
        onError(error, event);
      }
    }
  };
  const tracker = new HeardLatencyTracker(now, {
    onTurn: (latency) => deliver({ type: 'turnLatency', latency: { ...latency, callerStoppedAtMs: latency.callerStoppedAtMs - startedAtMs } }),
    onBargeIn: (timing) => deliver({ type: 'bargeInTiming', timing }),
  });
  // Nothing here reads the caller's audio frames (the tracker times the agent's audio and its marks), so a call with
  // only these observers never builds them.
  return listenerExcept(['callerAudio'], (event) => {
    // The `ended` event closes the latencies first, so observers have every figure before the call's end.
    if (event.type === 'ended') tracker.observe(event);
    deliver(event);
    if (event.type !== 'ended') tracker.observe(event);
  });
}
