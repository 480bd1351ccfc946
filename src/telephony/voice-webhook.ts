import type { Request, Response } from 'express';
import twilio from 'twilio';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumber } from '../observability/redact.js';
import type { TwilioCallParameters } from '../domain/call-details.js';
import { AGENT_QUERY_PARAMETER } from './routes.js';
import { signedForm } from './twilio-webhook-auth.js';

export { MEDIA_STREAM_PATH, VOICE_WEBHOOK_PATH } from './routes.js';

/** The `<Parameter>` that carries the stream token (the Stream URL cannot carry a query string). */
export const STREAM_TOKEN_PARAMETER = 'streamToken';

/** What a caller hears when we cannot take the call: a polite line, then Twilio hangs up. No stream, no Gemini. */
export const BUSY_MESSAGE = 'Sorry, all of our lines are busy right now. Please call again in a few minutes. Goodbye.';
/** What a caller hears when no agent answers the number they called (and no default agent is set). */
export const NO_AGENT_MESSAGE = 'Sorry, this number is not in service. Goodbye.';

/** How the webhook answers one call: with a stream, or a spoken refusal and a hang-up. */
export type VoiceAnswer =
  /**
   * `actionUrl`: where Twilio asks what next once the stream ends (`<Connect action>`), for a failover;
   * `statusCallbackUrl`: where Twilio reports the stream's start, stop and errors (`<Stream statusCallback>`);
   * `parameters`: more `<Parameter>`s for the stream's `start` (it is authenticated by the token beside them).
   */
  | { kind: 'stream'; streamUrl: string; token: string; actionUrl?: string; statusCallbackUrl?: string; parameters?: Readonly<Record<string, string>> }
  | { kind: 'refuse'; message: string; reason: string }
  /** A repeat of a call already answered and streamed, or ended: hang up without a word. */
  | { kind: 'hang-up'; reason: string };

export interface VoiceWebhookDeps {
  log: Logger;
  /**
   * Decides the answer for a signed call: the agent (by the called number, or `agentName` for a call we
   * placed), capacity, the stream token. May be asynchronous (shared state lives in Redis in a fleet).
   */
  answer: (call: TwilioCallParameters, agentName: string | undefined) => Promise<VoiceAnswer> | VoiceAnswer;
}

/**
 * `POST /voice`, Twilio's "a call comes in" webhook, after `twilioSignedWebhook` checked it. Answers TwiML that
 * connects the call to our media stream, carrying a single-use token bound to the CallSid.
 */
export function handleVoiceWebhook({ log, answer }: VoiceWebhookDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const { callSid, params } = signedForm(res);
    const agentName = typeof req.query[AGENT_QUERY_PARAMETER] === 'string' ? req.query[AGENT_QUERY_PARAMETER] : undefined;
    const call: TwilioCallParameters = { callSid, from: params.From, to: params.To, direction: params.Direction };
    let decision: VoiceAnswer;
    try {
      decision = await answer(call, agentName);
    } catch (error) {
      log.error({ err: error, callSid }, 'could not decide how to answer the call: answering busy');
      decision = { kind: 'refuse', message: BUSY_MESSAGE, reason: 'error' };
    }
    res.status(200).type('text/xml').send(voiceTwiml(decision));
    if (decision.kind === 'stream') {
      log.info({ callSid, from: redactIfPresent(call.from), to: redactIfPresent(call.to), direction: call.direction }, 'call answered with a media stream');
    } else {
      log.warn({ callSid, reason: decision.reason }, decision.kind === 'refuse' ? 'call refused with a spoken message' : 'call answered with a hang-up');
    }
  };
}

export function voiceTwiml(decision: VoiceAnswer): string {
  const response = new twilio.twiml.VoiceResponse();
  if (decision.kind === 'stream') {
    const connect = response.connect(decision.actionUrl === undefined ? {} : { action: decision.actionUrl, method: 'POST' });
    const stream = connect.stream({ url: decision.streamUrl, ...(decision.statusCallbackUrl === undefined ? {} : { statusCallback: decision.statusCallbackUrl, statusCallbackMethod: 'POST' }) });
    stream.parameter({ name: STREAM_TOKEN_PARAMETER, value: decision.token });
    for (const [name, value] of Object.entries(decision.parameters ?? {})) stream.parameter({ name, value });
  } else {
    if (decision.kind === 'refuse') response.say(decision.message);
    response.hangup();
  }
  return response.toString();
}

function redactIfPresent(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redactPhoneNumber(value);
}

/**
 * `POST /voice/stream-ended`, Twilio's `<Connect action>` request once the call's media stream has ended
 * (after `twilioSignedWebhook`): a call ended on purpose is hung up; a call whose stream was lost gets a new
 * stream, on this instance, that resumes its model session.
 */
export function handleStreamEnded({ log, answer }: { log: Logger; answer: (callSid: string) => Promise<VoiceAnswer> }) {
  return async (_req: Request, res: Response): Promise<void> => {
    const { callSid } = signedForm(res);
    let decision: VoiceAnswer;
    try {
      decision = await answer(callSid);
    } catch (error) {
      // The call state is out of reach: nothing says the call may go on, and a new stream could not redeem.
      log.error({ err: error, callSid }, 'stream ended and the call state cannot be reached: hanging up');
      decision = { kind: 'hang-up', reason: 'state-unavailable' };
    }
    res.status(200).type('text/xml').send(voiceTwiml(decision));
    if (decision.kind === 'stream') log.warn({ callSid }, 'the call lost its media stream: reconnecting it here, resuming its model session');
    else log.info({ callSid, reason: decision.reason }, 'media stream ended: hanging up');
  };
}
