import { randomUUID } from 'node:crypto';
import { computeTwilioSignature } from './signature.js';
import { newCallSid, TEST_ACCOUNT_SID } from './ids.js';

export { newCallSid, newStreamSid, newAccountSid, isSid, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from './ids.js';
export { parseConnectStreamTwiml, TwimlError, type ConnectStreamTwiml } from './twiml.js';

/** The parameters of Twilio's voice webhook (https://www.twilio.com/docs/voice/twiml#request-parameters). */
export type VoiceWebhookParams = Record<string, string>;

/**
 * A realistic inbound-call request body: what Twilio POSTs when a caller dials one of our numbers.
 * Geographic fields are filled the way Twilio fills them for US numbers (empty strings where unknown).
 */
export function defaultVoiceWebhookParams(overrides: Readonly<Record<string, string | undefined>> = {}): VoiceWebhookParams {
  const from = overrides['From'] ?? '+14155550123';
  const to = overrides['To'] ?? '+16505550199';
  const base: VoiceWebhookParams = {
    AccountSid: TEST_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: newCallSid(),
    CallStatus: 'ringing',
    Called: to,
    CalledCity: 'PALO ALTO',
    CalledCountry: 'US',
    CalledState: 'CA',
    CalledZip: '94301',
    Caller: from,
    CallerCity: 'SAN FRANCISCO',
    CallerCountry: 'US',
    CallerState: 'CA',
    CallerZip: '94103',
    Direction: 'inbound',
    From: from,
    FromCity: 'SAN FRANCISCO',
    FromCountry: 'US',
    FromState: 'CA',
    FromZip: '94103',
    To: to,
    ToCity: 'PALO ALTO',
    ToCountry: 'US',
    ToState: 'CA',
    ToZip: '94301',
  };
  // `undefined` in overrides removes a parameter (e.g. to simulate a withheld caller ID field).
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

export interface PostVoiceWebhookOptions {
  /** Where our server really listens, e.g. `http://127.0.0.1:PORT`. */
  serverUrl: string;
  /** The public base URL configured in the Twilio console, e.g. `https://agent.example.com`. Twilio signs this. */
  publicUrl: string;
  authToken: string;
  /** Overrides/additions to the default call parameters; `undefined` removes one. */
  params?: Readonly<Record<string, string | undefined>>;
  /** Path of the voice webhook on both URLs. Default `/voice`. */
  path?: string;
  /**
   * Omit for a correct signature. A string is sent as the header verbatim (e.g. a wrong signature);
   * `null` sends no `X-Twilio-Signature` header at all.
   */
  signature?: string | null;
}

export interface VoiceWebhookResponse {
  status: number;
  contentType: string | null;
  body: string;
  /** The exact form parameters that were posted (CallSid etc.), so tests can follow the call. */
  params: VoiceWebhookParams;
  /** The URL the signature covered. */
  signedUrl: string;
}

/**
 * POST the voice webhook the way Twilio does: form-encoded body, signature over the *public* URL (not the local
 * one we connect to), Twilio's user agent and idempotency header.
 */
export async function postVoiceWebhook(options: PostVoiceWebhookOptions): Promise<VoiceWebhookResponse> {
  const path = options.path ?? '/voice';
  const params = defaultVoiceWebhookParams(options.params);
  const signedUrl = joinUrl(options.publicUrl, path);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'TwilioProxy/1.1',
    'i-twilio-idempotency-token': randomUUID(),
    accept: '*/*',
  };
  const signature =
    options.signature === undefined ? computeTwilioSignature(options.authToken, signedUrl, params) : options.signature;
  if (signature !== null) headers['x-twilio-signature'] = signature;

  const response = await fetch(joinUrl(options.serverUrl, path), {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
    redirect: 'manual',
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: await response.text(),
    params,
    signedUrl,
  };
}

export interface TwilioRequestResult {
  status: number;
  body: string;
  /** Set when the request could not be made at all (connection refused, reset). */
  error?: string;
}

/**
 * One of Twilio's own requests to a URL it was given (an action, a status callback, a `<Number url>`): a signed,
 * form-encoded POST to `url`, the absolute public URL Twilio signs, delivered to the same path and query on
 * `serverUrl` (where the server really listens). Never throws: a failed request comes back with `error`.
 */
export async function postTwilioRequest(options: { serverUrl: string; url: string; authToken: string; params: Readonly<Record<string, string>> }): Promise<TwilioRequestResult> {
  const target = new URL(options.url);
  try {
    const response = await fetch(`${new URL(options.serverUrl).origin}${target.pathname}${target.search}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'TwilioProxy/1.1',
        'i-twilio-idempotency-token': randomUUID(),
        'x-twilio-signature': computeTwilioSignature(options.authToken, options.url, options.params),
        accept: '*/*',
      },
      body: new URLSearchParams(options.params).toString(),
      redirect: 'manual',
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { status: 0, body: '', error: (error as Error).message };
  }
}

function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}
