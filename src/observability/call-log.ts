import type { CallDetails } from '../domain/call-details.js';
import type { CallEvent, CallEventListener } from './call-events.js';
import type { Logger } from './logger.js';
import { redactPhoneNumber } from './redact.js';

/**
 * The call's story in the log, from its event stream: started, barge-ins, session switches, ended with the
 * summary. Phone numbers are masked; what people said stays out of info-level lines (transcripts only at
 * debug, and only when `logTranscripts` is on).
 */
export function callLogListener(log: Logger, call: CallDetails, options: { logTranscripts: boolean } = { logTranscripts: false }): CallEventListener {
  return (event: CallEvent) => {
    switch (event.type) {
      case 'started':
        log.info({ from: redact(call.from), to: redact(call.to), direction: call.direction }, 'call started');
        return;
      case 'bargeIn':
        log.info({ turn: event.turn, sentMs: event.sentMs, heardMs: event.heardMs }, 'caller interrupted the agent');
        if (options.logTranscripts) log.debug({ turn: event.turn, agentSaid: event.heardText }, 'what the agent had said when interrupted');
        return;
      case 'transcript':
        if (options.logTranscripts) log.debug({ speaker: event.speaker, text: event.text }, 'transcript');
        return;
      case 'sessionSwitched': {
        const { type: _, ...details } = event;
        log.info(details, 'continuing on a new model session');
        return;
      }
      case 'ended':
        log.info(event.summary, 'call ended');
        return;
      default:
        return;
    }
  };
}

function redact(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redactPhoneNumber(value);
}
