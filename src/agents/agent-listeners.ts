import { listenerFor, type CallEventListener } from '../observability/call-events.js';
import type { Logger } from '../observability/logger.js';
import type { CallDetails } from '../domain/call-details.js';
import type { Agent } from './agent.js';

/**
 * The agent's own hooks on a call's event stream. A hook that throws or rejects is logged and ignored: an
 * agent's CRM being down must never disturb the call.
 */
export function agentHooksListener(agent: Agent, call: CallDetails, log: Logger): CallEventListener | undefined {
  const { onCallEvent, onCallEnded } = agent;
  if (onCallEvent === undefined && onCallEnded === undefined) return undefined;
  const listener: CallEventListener = (event) => {
    if (onCallEvent !== undefined) {
      try {
        const result: unknown = onCallEvent(event, call);
        if (result instanceof Promise) result.catch((error: unknown) => log.warn({ err: error, event: event.type }, 'agent onCallEvent failed'));
      } catch (error) {
        log.warn({ err: error, event: event.type }, 'agent onCallEvent failed');
      }
    }
    if (event.type === 'ended' && onCallEnded !== undefined) {
      // Called on the next turn of the event loop, so a slow hook never delays the call's own ending.
      setImmediate(() => {
        Promise.resolve()
          .then(() => onCallEnded(event.summary, call))
          .catch((error: unknown) => log.warn({ err: error }, 'agent onCallEnded failed'));
      });
    }
  };
  // Without onCallEvent, only the end is read: the call need not build its audio events for this agent.
  return onCallEvent === undefined ? listenerFor(['ended'], listener) : listener;
}
