import type { Request, Response } from 'express';
import { publicHttpsUrl, type Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';
import { redactPhoneNumbersInText } from '../observability/redact.js';
import { CALL_STATUS_PATH } from './outbound-calls.js';
import { isValidTwilioSignature } from './twilio-signature.js';
import { formParams, singleValues } from './voice-webhook.js';

export interface CallStatusUpdate {
  callSid: string;
  /** `queued`, `initiated`, `ringing`, `in-progress`, `completed`, `busy`, `no-answer`, `failed` or `canceled`. */
  status: string;
}

export interface CallStatusWebhookDeps {
  config: Pick<Config, 'publicUrl' | 'twilio'>;
  log: Logger;
  onStatus: (update: CallStatusUpdate) => void;
}

const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;
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
export function handleCallStatusWebhook({ config, log, onStatus }: CallStatusWebhookDeps) {
  const signedUrl = publicHttpsUrl(config, CALL_STATUS_PATH);

  return (req: Request, res: Response): void => {
    const signed = formParams(req.body);
    const signature = req.header('x-twilio-signature');
    if (!isValidTwilioSignature(config.twilio.authToken, signature, signedUrl, signed)) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { signedUrl, hasSignature: signature !== undefined }, 'call status callback refused: bad X-Twilio-Signature (is PUBLIC_URL the URL Twilio calls?)');
      res.status(403).type('text/plain').send('Twilio signature validation failed.');
      return;
    }
    const params = singleValues(signed);
    const { CallSid: callSid, CallStatus: status } = params;
    if (callSid === undefined || !CALL_SID_PATTERN.test(callSid) || status === undefined || params.AccountSid !== config.twilio.accountSid) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { callSid, accountMatches: params.AccountSid === config.twilio.accountSid }, 'call status callback refused: missing CallSid or CallStatus, or foreign account');
      res.status(400).type('text/plain').send('Expected a Twilio call status callback for this account.');
      return;
    }

    const fields: Record<string, string> = {};
    for (const [param, field] of Object.entries(LOGGED_FIELDS)) {
      const value = params[param];
      // Object fields escape the logger's scrubbing of messages, and an error message may quote a number.
      if (value !== undefined && value !== '') fields[field] = redactPhoneNumbersInText(value);
    }
    log.info({ callSid, ...fields }, 'call status');
    onStatus({ callSid, status });
    res.status(204).end();
  };
}
