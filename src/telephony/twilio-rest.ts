import twilio from 'twilio';
import { CALL_SID_PATTERN, E164_PATTERN } from '../domain/identifiers.js';

export { E164_PATTERN } from '../domain/identifiers.js';

/** A hang-up that takes longer than this is treated as failed (the call is then ended by closing the stream). */
export const TWILIO_REQUEST_TIMEOUT_MS = 8_000;

/** Twilio's `<Say>` in the agent's language (a BCP-47 tag Twilio knows, e.g. de-DE), or its default voice. */
type SayLanguage = string | undefined;

/** 20404: the call does not exist (any more); 21220: "Invalid call state" for a call that has ended. */
const CALL_ALREADY_ENDED_CODES = new Set([20404, 21220]);

export type CallUpdateResult = 'updated' | 'already-ended';

/** Mid-call control through Twilio's REST API (the Calls resource). */
export interface CallControl {
  /** `Status=completed`. A call that has already ended counts as done. */
  hangUp(callSid: string): Promise<CallUpdateResult>;
  /** `Twiml=…`: Twilio stops the media stream and runs this TwiML instead. */
  redirect(callSid: string, twiml: string): Promise<CallUpdateResult>;
}

/** A REST failure, with nothing of the request in it (axios errors carry the Authorization header). */
export class TwilioRestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = 'TwilioRestError';
  }
}

export interface TwilioRestOptions {
  accountSid: string;
  authToken: string;
  /** TWILIO_API_BASE_URL: another server in place of https://api.twilio.com (a proxy, or a test fake). */
  apiBaseUrl: string | undefined;
  timeoutMs?: number;
}


/**
 * twilio-node has no base-URL option, but it takes a custom `httpClient`; this one sends each
 * request to the same path under another origin (and path prefix), keeping everything else of
 * twilio-node: auth, form encoding, retries on 429, error parsing.
 */
class RebasedRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: URL,
    options: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(options);
  }

  override request<TData>(options: Parameters<twilio.RequestClient['request']>[0] & { data?: TData }) {
    return super.request<TData>({ ...options, uri: rebase(options.uri, this.baseUrl) });
  }
}

/** `https://api.twilio.com/2010-04-01/…` → `<base>/2010-04-01/…` (a base path is kept as a prefix). */
export function rebase(uri: string, baseUrl: URL): string {
  const original = new URL(uri);
  const prefix = baseUrl.pathname.replace(/\/+$/, '');
  return `${baseUrl.origin}${prefix}${original.pathname}${original.search}`;
}

/**
 * A twilio-node client for the account, sending to TWILIO_API_BASE_URL when set. Retries only what
 * Twilio refused with 429 (not processed, so safe to repeat even for a POST that creates a call).
 */
export function createTwilioClient(options: TwilioRestOptions): twilio.Twilio {
  const requestOptions = { timeout: options.timeoutMs ?? TWILIO_REQUEST_TIMEOUT_MS, autoRetry: true, maxRetries: 2 };
  const httpClient =
    options.apiBaseUrl === undefined
      ? new twilio.RequestClient(requestOptions)
      : new RebasedRequestClient(new URL(options.apiBaseUrl), requestOptions);
  return twilio(options.accountSid, options.authToken, { httpClient });
}

export function createTwilioCallControl(options: TwilioRestOptions): CallControl {
  const client = createTwilioClient(options);

  const update = async (callSid: string, params: { status: 'completed' } | { twiml: string }): Promise<CallUpdateResult> => {
    // The SID becomes part of the URL path: only a well-formed one may get there.
    if (!CALL_SID_PATTERN.test(callSid)) throw new TwilioRestError('not a Twilio call SID', undefined, undefined);
    try {
      await client.calls(callSid).update(params);
      return 'updated';
    } catch (error) {
      const failure = toTwilioRestError(error);
      if (failure.code !== undefined && CALL_ALREADY_ENDED_CODES.has(failure.code)) return 'already-ended';
      throw failure;
    }
  };

  return {
    hangUp: (callSid) => update(callSid, { status: 'completed' }),
    redirect: (callSid, twiml) => update(callSid, { twiml }),
  };
}

/** Refuses a transfer number that is not E.164 (markup included), so a bad one fails at start-up, not mid-call. */
export function assertTransferNumber(number: string): void {
  if (!E164_PATTERN.test(number)) throw new Error(`transfer number must be E.164, e.g. +14155550100 (got "${number}")`);
}

/**
 * TwiML that sends the caller to `number`, then apologises if nobody answers. The number must be
 * E.164; the builder escapes everything it writes.
 */
export function dialTwiml(number: string, notAnswered: string, language?: SayLanguage): string {
  assertTransferNumber(number);
  const response = new twilio.twiml.VoiceResponse();
  response.dial(number);
  say(response, notAnswered, language);
  return response.toString();
}

/** TwiML that says one thing and hangs up: the apology when the agent cannot continue. */
export function sayAndHangUpTwiml(text: string, language?: SayLanguage): string {
  const response = new twilio.twiml.VoiceResponse();
  say(response, text, language);
  response.hangup();
  return response.toString();
}

/** Any failure of a twilio-node request as a TwilioRestError: Twilio's status, code and message, no request details. */
export function toTwilioRestError(error: unknown): TwilioRestError {
  if (error instanceof TwilioRestError) return error;
  const { status, code } = restErrorFields(error);
  return new TwilioRestError(describeRestFailure(error, status, code), status, code);
}

function restErrorFields(error: unknown): { status: number | undefined; code: number | undefined } {
  if (typeof error !== 'object' || error === null) return { status: undefined, code: undefined };
  const { status, code } = error as { status?: unknown; code?: unknown };
  return { status: typeof status === 'number' ? status : undefined, code: typeof code === 'number' ? code : undefined };
}

function describeRestFailure(error: unknown, status: number | undefined, code: number | undefined): string {
  if (status !== undefined) return `Twilio answered ${status}${code === undefined ? '' : ` (error ${code})`}: ${(error as Error).message}`;
  // Network failures: axios puts a string code such as ECONNREFUSED or ECONNABORTED on the error.
  const networkCode = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined;
  return `Twilio could not be reached${networkCode === undefined ? '' : ` (${networkCode})`}`;
}

function say(response: InstanceType<typeof twilio.twiml.VoiceResponse>, text: string, language: SayLanguage): void {
  if (language === undefined) response.say(text);
  else response.say({ language: language as never }, text);
}

/** Where Twilio serves a recording's media, whichever API base URL the requests go to. */
const TWILIO_MEDIA_ORIGIN = 'https://api.twilio.com';

/** Twilio's own recording of calls (TWILIO_RECORDING): dual channel, callee and agent apart. */
export interface TwilioRecordings {
  /** Starts recording a call in progress; its SID and the URL its media will have. */
  start(callSid: string): Promise<{ sid: string; url: string }>;
}

/**
 * Recordings through the Recordings resource of a call in progress
 * (https://www.twilio.com/docs/voice/api/recording#create-a-recording-resource): the same for calls placed and calls
 * taken, whatever TwiML runs (a transfer's `<Dial>` included). `dual` puts each leg in its own channel; the status
 * callback reports it in progress, then completed (or absent, failed). The media URL is Twilio's, with `.wav` or
 * `.mp3` appended to fetch it with the account's credentials.
 */
export function createTwilioRecordings(options: TwilioRestOptions, statusCallbackUrl: string): TwilioRecordings {
  const client = createTwilioClient(options);
  return {
    async start(callSid) {
      if (!CALL_SID_PATTERN.test(callSid)) throw new TwilioRestError('not a Twilio call SID', undefined, undefined);
      try {
        const recording = await client.calls(callSid).recordings.create({
          recordingChannels: 'dual',
          recordingTrack: 'both',
          recordingStatusCallback: statusCallbackUrl,
          recordingStatusCallbackMethod: 'POST',
          recordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
        });
        return { sid: recording.sid, url: `${TWILIO_MEDIA_ORIGIN}/2010-04-01/Accounts/${options.accountSid}/Recordings/${recording.sid}` };
      } catch (error) {
        throw toTwilioRestError(error);
      }
    },
  };
}
