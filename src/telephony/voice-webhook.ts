import type { Request, Response } from 'express';
import twilio from 'twilio';
import { publicHttpsUrl, publicWssUrl, type Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';
import { redactPhoneNumber } from '../observability/redact.js';
import type { CallInfo, StreamTokenStore } from './stream-tokens.js';
import { isValidTwilioSignature } from './twilio-signature.js';

export const VOICE_WEBHOOK_PATH = '/voice';
export const MEDIA_STREAM_PATH = '/media';
/** The `<Parameter>` that carries the stream token (the Stream URL cannot carry a query string). */
export const STREAM_TOKEN_PARAMETER = 'streamToken';

const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;

export interface VoiceWebhookDeps {
  config: Pick<Config, 'publicUrl' | 'twilio'>;
  tokens: StreamTokenStore;
  log: Logger;
  /**
   * Why this call cannot be taken now (full, or shutting down); undefined when it can. Called once per signed
   * webhook, with the call's SID: an outbound call we placed reaches here when answered.
   */
  refuseReason: (callSid: string) => 'busy' | 'draining' | undefined;
  /** The call was answered with a stream; e.g. to open its Gemini session before the stream arrives. */
  onAnswered?: (call: CallInfo) => void;
}

/** What a caller hears when we cannot take the call: a polite line, then Twilio hangs up. No stream, no Gemini. */
export const BUSY_MESSAGE = 'Sorry, all of our lines are busy right now. Please call again in a few minutes. Goodbye.';

/**
 * `POST /voice`, Twilio's "a call comes in" webhook. Answers a signed request with TwiML that connects
 * the call to our media stream, carrying a single-use token bound to the CallSid.
 */
export function handleVoiceWebhook({ config, tokens, log, refuseReason, onAnswered }: VoiceWebhookDeps) {
  const signedUrl = publicHttpsUrl(config, VOICE_WEBHOOK_PATH);
  const streamUrl = publicWssUrl(config, MEDIA_STREAM_PATH);

  return (req: Request, res: Response): void => {
    const signedParams = formParams(req.body);
    const signature = req.header('x-twilio-signature');
    if (!isValidTwilioSignature(config.twilio.authToken, signature, signedUrl, signedParams)) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { signedUrl, hasSignature: signature !== undefined }, 'voice webhook refused: bad X-Twilio-Signature (is PUBLIC_URL the URL Twilio calls?)');
      res.status(403).type('text/plain').send('Twilio signature validation failed.');
      return;
    }
    const params = singleValues(signedParams);
    const callSid = params.CallSid;
    if (callSid === undefined || !CALL_SID_PATTERN.test(callSid) || params.AccountSid !== config.twilio.accountSid) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { callSid, accountMatches: params.AccountSid === config.twilio.accountSid }, 'voice webhook refused: missing CallSid or foreign account');
      res.status(400).type('text/plain').send('Expected a Twilio voice webhook for this account.');
      return;
    }

    const refusal = refuseReason(callSid);
    if (refusal !== undefined) {
      log.warn({ callSid, reason: refusal }, 'incoming call refused: answering with the busy message');
      const busy = new twilio.twiml.VoiceResponse();
      busy.say(BUSY_MESSAGE);
      busy.hangup();
      res.status(200).type('text/xml').send(busy.toString());
      return;
    }

    const call: CallInfo = { callSid, from: params.From, to: params.To, direction: params.Direction };
    const token = tokens.issue(call);
    const response = new twilio.twiml.VoiceResponse();
    const stream = response.connect().stream({ url: streamUrl });
    stream.parameter({ name: STREAM_TOKEN_PARAMETER, value: token });

    log.info(
      { callSid, from: redactIfPresent(params.From), to: redactIfPresent(params.To), direction: params.Direction },
      'incoming call: answering with a media stream',
    );
    res.status(200).type('text/xml').send(response.toString());
    onAnswered?.(call);
  };
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

function redactIfPresent(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redactPhoneNumber(value);
}
