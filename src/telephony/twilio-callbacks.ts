import type { Request, Response } from 'express';
import { isTwilioAnsweredBy, type TwilioAnsweredBy } from '../domain/answered-by.js';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumbersInText } from '../observability/redact.js';
import { signedForm } from './twilio-webhook-auth.js';

/**
 * Twilio's reports about a call, each signed and checked by `twilioSignedWebhook` first, each answered 204 (Twilio
 * reads no TwiML from them): the answering-machine verdict, the media stream's events, a recording's status.
 */

/**
 * `POST /amd-status`: the asynchronous answering-machine verdict of a call we placed, with `AnsweredBy` and
 * `MachineDetectionDuration` in ms (https://www.twilio.com/docs/voice/answering-machine-detection).
 */
export function handleAmdStatus({ log, onAnsweredBy }: { log: Logger; onAnsweredBy: (callSid: string, answeredBy: TwilioAnsweredBy) => void }) {
  return (_req: Request, res: Response): void => {
    const { callSid, params } = signedForm(res);
    const answeredBy = params.AnsweredBy;
    if (!isTwilioAnsweredBy(answeredBy)) {
      log.warn({ callSid }, 'answering machine verdict refused: no known AnsweredBy');
      res.status(400).type('text/plain').send('Expected a Twilio AMD status callback.');
      return;
    }
    const detectionMs = Number(params.MachineDetectionDuration);
    log.info({ callSid, answeredBy, ...(Number.isFinite(detectionMs) ? { detectionMs } : {}) }, "Twilio's answering machine verdict");
    onAnsweredBy(callSid, answeredBy);
    res.status(204).end();
  };
}

const STREAM_EVENTS = new Set(['stream-started', 'stream-stopped', 'stream-error']);

/**
 * `POST /media/<instance id>`: `<Stream statusCallback>`, Twilio's own view of the media stream
 * (https://www.twilio.com/docs/voice/twiml/stream#statuscallback): started, stopped, or an error our socket may
 * never have seen (a handshake that failed before our code ran).
 */
export function handleStreamStatus({ log }: { log: Logger }) {
  return (_req: Request, res: Response): void => {
    const { callSid, params } = signedForm(res);
    const event = params.StreamEvent;
    if (event === undefined || !STREAM_EVENTS.has(event)) {
      log.warn({ callSid }, 'stream status callback refused: no known StreamEvent');
      res.status(400).type('text/plain').send('Expected a Twilio stream status callback.');
      return;
    }
    const fields = { callSid, streamSid: params.StreamSid, event, twilioTimestamp: params.Timestamp };
    // An error text may quote what it failed on; numbers in it are masked like every logged phone number.
    if (event === 'stream-error') log.warn({ ...fields, error: redactPhoneNumbersInText(params.StreamError ?? '') }, 'Twilio reports a media stream error');
    else log.info(fields, 'Twilio reports a media stream event');
    res.status(204).end();
  };
}

/** What Twilio says about a recording of a call (https://www.twilio.com/docs/voice/api/recording#recordingstatuscallback). */
export interface RecordingStatus {
  callSid: string;
  sid: string;
  url: string;
  /** `in-progress`, `completed`, `absent` (no audio) or `failed`. */
  status: string;
  durationSeconds: number | undefined;
}

/**
 * `POST /recording-status`: Twilio's recording of the call (TWILIO_RECORDING) has started, ended or failed. Logged:
 * the call's summary has had the recording's URL since it started.
 */
export function handleRecordingStatus({ log }: { log: Logger }) {
  return (_req: Request, res: Response): void => {
    const { callSid, params } = signedForm(res);
    const { RecordingSid: sid, RecordingUrl: url, RecordingStatus: status } = params;
    if (sid === undefined || url === undefined || status === undefined) {
      log.warn({ callSid }, 'recording status callback refused: no RecordingSid, RecordingUrl or RecordingStatus');
      res.status(400).type('text/plain').send('Expected a Twilio recording status callback.');
      return;
    }
    const duration = Number(params.RecordingDuration);
    const recording: RecordingStatus = { callSid, sid, url, status, durationSeconds: params.RecordingDuration !== undefined && Number.isFinite(duration) ? duration : undefined };
    const fields = { ...recording, errorCode: params.ErrorCode };
    if (status === 'failed' || status === 'absent') log.warn(fields, `Twilio's recording of the call is ${status}`);
    else log.info(fields, `Twilio's recording of the call is ${status}`);
    res.status(204).end();
  };
}
