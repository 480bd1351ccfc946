import type { CallDetails } from '../domain/call-details.js';
import { listenerFor, type CallEventListener } from './call-events.js';
import type { Logger } from './logger.js';
import { redactPhoneNumber } from './redact.js';

/**
 * The call's story in the log, from its event stream: started, barge-ins, session switches, ended with the
 * summary. Phone numbers are masked; what people said stays out of info-level lines (transcripts only at
 * debug, and only when `logTranscripts` is on).
 */
export function callLogListener(log: Logger, call: CallDetails, options: { logTranscripts: boolean } = { logTranscripts: false }): CallEventListener {
  // What was said in the current exchange, joined from the transcript fragments (kept only to be logged).
  let callerSaid = '';
  let agentSaid = '';
  const endTurn = (turn: number, interrupted: boolean): void => {
    if (options.logTranscripts) log.debug({ turn, interrupted, callerSaid: callerSaid.trim(), agentSaid: agentSaid.trim() }, 'turn complete');
    callerSaid = '';
    agentSaid = '';
  };
  return listenerFor(['started', 'bargeIn', 'transcript', 'agentTurnEnded', 'sessionSwitched', 'ended'], (event) => {
    switch (event.type) {
      case 'started':
        log.info({ from: redact(call.from), to: redact(call.to), direction: call.direction }, 'call started');
        return;
      case 'bargeIn':
        log.info({ turn: event.turn, sentMs: event.sentMs, heardMs: event.heardMs }, 'caller interrupted the agent');
        return;
      case 'transcript':
        if (!options.logTranscripts) return;
        if (event.speaker === 'agent') agentSaid += event.text;
        else callerSaid += event.text;
        return;
      case 'agentTurnEnded':
        endTurn(event.turn, event.interrupted);
        return;
      case 'sessionSwitched': {
        const { type: _, ...details } = event;
        log.info(details, 'continuing on a new model session');
        return;
      }
      case 'ended':
        // The summary names the agent too; a field the call's logger already carries is not written twice (a JSON
        // line with a duplicate key breaks pipelines that keep the first).
        log.info(withoutBound(log, event.summary), 'call ended');
        return;
    }
  });
}

function redact(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redactPhoneNumber(value);
}

function withoutBound(log: Logger, fields: object): Record<string, unknown> {
  const bound = log.bindings();
  return Object.fromEntries(Object.entries(fields).filter(([key]) => !(key in bound)));
}
