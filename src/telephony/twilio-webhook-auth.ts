import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';
import { ACCOUNT_SID_PATTERN, isCallSid } from '../domain/identifiers.js';
import { isValidTwilioSignature } from './twilio-signature.js';

/** A Twilio webhook's form, once its signature, CallSid and account have been checked. */
export interface SignedTwilioForm {
  callSid: string;
  /** Every single-valued parameter as Twilio sent it. */
  params: Readonly<Record<string, string | undefined>>;
}

export interface TwilioWebhookAuthOptions {
  /** PUBLIC_URL: Twilio signs the URL it requested, which behind a tunnel or proxy is this origin plus the path. */
  publicUrl: URL;
  authToken: string;
  accountSid: string;
  /** Names the webhook in log lines, e.g. `voice webhook`. */
  name: string;
  log: Logger;
}

/**
 * The one gate for Twilio's webhooks: parses the form, checks `X-Twilio-Signature` over PUBLIC_URL plus the path
 * and query Twilio requested (https://www.twilio.com/docs/usage/webhooks/webhooks-security), then that it is a
 * call of this account. The handler after it reads `signedForm(res)`.
 */
export function twilioSignedWebhook(options: TwilioWebhookAuthOptions): RequestHandler[] {
  const { log, name } = options;
  const check: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const signedParams = formParams(req.body);
    const signature = req.header('x-twilio-signature');
    const signedUrl = `${options.publicUrl.origin}${req.originalUrl}`;
    if (!isValidTwilioSignature(options.authToken, signature, signedUrl, signedParams)) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { path: req.path, hasSignature: signature !== undefined }, `${name} refused: bad X-Twilio-Signature (is PUBLIC_URL the URL Twilio calls?)`);
      res.status(403).type('text/plain').send('Twilio signature validation failed.');
      return;
    }
    const params = singleValues(signedParams);
    const callSid = params.CallSid;
    if (!isCallSid(callSid) || !ACCOUNT_SID_PATTERN.test(params.AccountSid ?? '') || params.AccountSid !== options.accountSid) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { callSid, accountMatches: params.AccountSid === options.accountSid }, `${name} refused: missing CallSid or foreign account`);
      res.status(400).type('text/plain').send('Expected a Twilio webhook for a call of this account.');
      return;
    }
    res.locals.twilioForm = { callSid, params } satisfies SignedTwilioForm;
    next();
  };
  return [express.urlencoded({ extended: false, limit: '32kb' }), check];
}

/** The checked form of the request `twilioSignedWebhook` let through. */
export function signedForm(res: Response): SignedTwilioForm {
  const form = res.locals.twilioForm as SignedTwilioForm | undefined;
  if (form === undefined) throw new Error('signedForm() read before twilioSignedWebhook() checked the request');
  return form;
}

type FormParams = Record<string, string | string[]>;

/** The form body as signed: every parameter counts, repeated ones as arrays (urlencoded, extended: false). */
export function formParams(body: unknown): FormParams {
  const params: FormParams = {};
  if (typeof body !== 'object' || body === null) return params;
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      params[key] = value as string | string[];
    }
  }
  return params;
}

export function singleValues(params: FormParams): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(params)) result[key] = typeof value === 'string' ? value : undefined;
  return result;
}
