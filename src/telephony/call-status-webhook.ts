import type { Request, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumbersInText } from '../observability/redact.js';
import { twilioErrorAdvice } from './twilio-errors.js';
import { signedForm } from './twilio-webhook-auth.js';

export interface CallStatusUpdate {
  callSid: string;
  /** `queued`, `initiated`, `ringing`, `in-progress`, `completed`, `busy`, `no-answer`, `failed` or `canceled`. */
  status: string;
}

export interface CallStatusWebhookDeps {
  log: Logger;
  onStatus: (update: CallStatusUpdate) => void;
}

/** Twilio's status-callback fields worth a log line; never `To`/`From` (phone numbers). */
const LOGGED_FIELDS: Record<string, string> = {
  CallStatus: 'status',
  Direction: 'direction',
  CallDuration: 'durationSeconds',
  SipResponseCode: 'sipResponseCode',
  SequenceNumber: 'sequence',
  AnsweredBy: 'answeredBy',
  ErrorCode: 'errorCode',
  ErrorMessage: 'errorMessage',
};

/**
 * `POST /call-status`: Twilio's progress callbacks for the calls we place (initiated, ringing, answered,
 * completed). Signed like the voice webhook, over PUBLIC_URL/call-status; answered 204. It only logs, and lets
 * the server stop holding a place for a call that ended without being answered.
 */
export function handleCallStatusWebhook({ log, onStatus }: CallStatusWebhookDeps) {
  return (_req: Request, res: Response): void => {
    const { callSid, params } = signedForm(res);
    const status = params.CallStatus;
    if (status === undefined) {
      log.warn({ callSid }, 'call status callback refused: no CallStatus');
      res.status(400).type('text/plain').send('Expected a Twilio call status callback.');
      return;
    }

    const fields: Record<string, string> = {};
    for (const [param, field] of Object.entries(LOGGED_FIELDS)) {
      const value = params[param];
      // Object fields escape the logger's scrubbing of messages, and an error message may quote a number.
      if (value !== undefined && value !== '') fields[field] = redactPhoneNumbersInText(value);
    }
    const advice = twilioErrorAdvice(params.ErrorCode);
    log.info({ callSid, ...fields, ...(advice === undefined ? {} : { advice }) }, 'call status');
    onStatus({ callSid, status });
    res.status(204).end();
  };
}
