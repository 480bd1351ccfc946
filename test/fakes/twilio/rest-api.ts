/**
 * A local fake of Twilio's REST API, five resources:
 * - the Account (https://www.twilio.com/docs/iam/api/account): fetch this account (its status and type);
 * - Alerts of the Monitor API (https://www.twilio.com/docs/usage/monitor-alert): the error log, listed by date
 *   (`StartDate`, `EndDate`, `LogLevel`) with the v1 paging envelope (`alerts`, `meta`);
 * - Calls (https://www.twilio.com/docs/voice/api/call-resource): create an outbound call (`POST Calls.json`, with
 *   asynchronous answering machine detection: `MachineDetection`, `AsyncAmd`, `AsyncAmdStatusCallback`,
 *   https://www.twilio.com/docs/voice/answering-machine-detection), fetch a call, and update it with
 *   `Status=completed` (hang up) or `Twiml=...` (redirect);
 * - a call's Recordings (https://www.twilio.com/docs/voice/api/recording#create-a-recording-resource): start one on a
 *   call in progress; its status callback reports `in-progress` at once when asked, `completed` when the call ends;
 * - IncomingPhoneNumbers (https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource): list the
 *   account's numbers (with the `PhoneNumber` filter, which matches partial numbers), fetch one, and update its voice
 *   configuration.
 *
 * Follows the public API: HTTP basic auth with the account SID and auth token (401, error 20003, otherwise);
 * form-encoded POST bodies with capitalised parameter names; JSON call resources with snake_case fields and
 * RFC 2822 dates; errors as `{code, message, more_info, status}`; 404 with error 20404 for a call that does not
 * exist, or has already ended. Every request is recorded, including refused ones. Callbacks (AMD verdicts, recording
 * status) are signed like every Twilio webhook and delivered to `deliverWebhooksTo`'s server.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postTwilioRequest } from './webhook.js';

export type FakeCallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'canceled';

export interface FakeCall {
  sid: string;
  from: string;
  to: string;
  /** `inbound` for a call that rang one of our numbers, `outbound-api` for one created through `POST Calls.json`. */
  direction: 'inbound' | 'outbound-api';
  status: FakeCallStatus;
  startTime: Date;
  endTime: Date | undefined;
  /** The TwiML the call was last redirected to (`Twiml=`), if any. */
  twiml: string | undefined;
  /** For a created call: where Twilio fetches its TwiML once answered (`Url`, `Method`), and its status callback. */
  url: string | undefined;
  method: string | undefined;
  statusCallback: string | undefined;
  statusCallbackMethod: string | undefined;
  statusCallbackEvents: string[];
  /** `MachineDetection` asked for at creation, and where the asynchronous verdict goes (`AsyncAmd=true`). */
  machineDetection: 'Enable' | 'DetectMessageEnd' | undefined;
  asyncAmdStatusCallback: string | undefined;
  /** The AMD verdict once sent (`answered_by` on the resource). */
  answeredBy: string | undefined;
}

/** A recording started on a call through the Recordings resource. */
export interface FakeRecording {
  sid: string;
  callSid: string;
  channels: 1 | 2;
  track: string;
  status: 'in-progress' | 'completed';
  startTime: Date;
  endTime: Date | undefined;
  statusCallback: string | undefined;
  statusCallbackEvents: string[];
}

/** A callback the fake delivered (AMD verdict, recording status), with the server's answer. */
export interface DeliveredCallback {
  atMs: number;
  url: string;
  params: Record<string, string>;
  status: number;
}

/** A phone number of the account, with the voice settings Twilio keeps for it. */
export interface FakeIncomingNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: string;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: string;
  /** A TwiML App's SID: when set, Twilio uses the app's voice URL instead of `voiceUrl`. Empty when none. */
  voiceApplicationSid: string;
  statusCallback: string;
  statusCallbackMethod: string;
  /** An Elastic SIP trunk the number is routed to (then its voice URL is not used), or null. */
  trunkSid: string | null;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface RecordedRestRequest {
  /** `performance.now()` when the request arrived. */
  atMs: number;
  method: string;
  path: string;
  /** The basic-auth credentials were this account's SID and token. */
  authorized: boolean;
  contentType: string | undefined;
  /** The decoded form body (last value wins for a repeated name). */
  form: Record<string, string>;
  /** Every value of each form parameter, in order (`StatusCallbackEvent` is sent once per event). */
  formValues: Record<string, string[]>;
  /** The query string (list filters and paging). */
  query: Record<string, string>;
  responseStatus: number;
}

export interface CallUpdate {
  call: FakeCall;
  kind: 'completed' | 'redirected';
  request: RecordedRestRequest;
}

export interface FakeTwilioRestApiOptions {
  accountSid: string;
  authToken: string;
  /** The account's `type` (a trial account can only call verified numbers). Default `Full`. */
  accountType?: 'Full' | 'Trial';
  /** The account's `status`. Default `active`. */
  accountStatus?: 'active' | 'suspended' | 'closed';
}

/** One entry of the account's error log (Monitor API Alert). */
export interface FakeAlert {
  sid: string;
  errorCode: string;
  logLevel: 'error' | 'warning' | 'notice' | 'debug';
  alertText: string;
  dateCreated: Date;
  resourceSid: string;
}

export interface FakeTwilioRestApi {
  /** e.g. `http://127.0.0.1:PORT`, for TWILIO_API_BASE_URL. */
  readonly baseUrl: string;
  readonly requests: readonly RecordedRestRequest[];
  /** A call Twilio knows about (an inbound call is `in-progress` while its media stream runs). */
  addCall(call: { sid: string; from?: string; to?: string; status?: FakeCallStatus }): FakeCall;
  getCall(sid: string): FakeCall | undefined;
  /** Calls created through `POST Calls.json`, oldest first. */
  readonly createdCalls: readonly FakeCall[];
  /**
   * A number the account owns. A new number points at Twilio's demo TwiML, as one bought in the console does.
   * Calls can only be created from these numbers.
   */
  addIncomingNumber(number: { phoneNumber: string } & Partial<Omit<FakeIncomingNumber, 'sid' | 'phoneNumber' | 'dateCreated' | 'dateUpdated'>>): FakeIncomingNumber;
  getIncomingNumber(phoneNumber: string): FakeIncomingNumber | undefined;
  /** An entry in the account's error log, as Twilio's debugger writes one (default: an error, now). */
  addAlert(alert: { errorCode: number } & Partial<Omit<FakeAlert, 'sid' | 'errorCode'>>): FakeAlert;
  /** Runs when an update takes effect, before the HTTP answer, as Twilio acts on a call before it answers. */
  onCallUpdated(listener: (update: CallUpdate) => void): void;
  /** Resolves with the first recorded request matching `predicate` (already recorded or still to come). */
  waitForRequest(predicate: (request: RecordedRestRequest) => boolean, timeoutMs?: number): Promise<RecordedRestRequest>;
  /** Where callbacks go: the server's real address (Twilio signs the public URL it was given). */
  deliverWebhooksTo(serverUrl: string): void;
  /** Every callback delivered, in order. */
  readonly callbacks: readonly DeliveredCallback[];
  /** Twilio's warnings for requests it accepted (e.g. 21262: AMD without a status callback). */
  readonly warnings: readonly string[];
  /**
   * Twilio's asynchronous AMD verdict for a call created with `AsyncAmd=true`: POSTs `AnsweredBy` and
   * `MachineDetectionDuration` (ms) to its `AsyncAmdStatusCallback`. Throws for a call that did not ask for it.
   */
  sendAmdVerdict(callSid: string, answeredBy: string, machineDetectionDurationMs: number): Promise<DeliveredCallback>;
  /** Recordings started on calls, oldest first. */
  readonly recordings: readonly FakeRecording[];
  /** The call ended (its caller hung up, its TwiML ran out): `completed`, and its recordings complete. */
  completeCall(sid: string): void;
  close(): Promise<void>;
}

const API_VERSION = '2010-04-01';
const ACCOUNT_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\.json$/;
const ALERTS_PATH = /^\/v1\/Alerts$/;
const CALL_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\.json$/;
const CALLS_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\.json$/;
const NUMBERS_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/IncomingPhoneNumbers\.json$/;
const NUMBER_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/;
/** Twilio's demo TwiML, the voice URL of a number bought in the console until it is changed. */
const DEMO_VOICE_URL = 'https://demo.twilio.com/welcome/voice/';
const CALL_STATUS_EVENTS = new Set(['initiated', 'ringing', 'answered', 'completed']);
const RECORDINGS_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\/Recordings\.json$/;
const RECORDING_STATUS_EVENTS = new Set(['in-progress', 'completed', 'absent']);
const API_ORIGIN = 'https://api.twilio.com';
/**
 * The code the fake gives a parameter value Twilio rejects where Twilio's own code is not documented (a 400 all the
 * same). Documented codes are used where they exist: 21201, 21205, 21210, 21211, 21213, 21502.
 */
const INVALID_PARAMETER = 20001;
/** Twilio's default and maximum page sizes for list resources. */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1_000;
/** Twilio's limit for inline TwiML on a call update. */
const MAX_TWIML_CHARS = 4_000;
const MAX_BODY_BYTES = 64 * 1024;

export async function startFakeTwilioRestApi(options: FakeTwilioRestApiOptions): Promise<FakeTwilioRestApi> {
  const calls = new Map<string, FakeCall>();
  const createdCalls: FakeCall[] = [];
  const numbers = new Map<string, FakeIncomingNumber>();
  const alerts: FakeAlert[] = [];
  const requests: RecordedRestRequest[] = [];
  const recordings: FakeRecording[] = [];
  const callbacks: DeliveredCallback[] = [];
  const warnings: string[] = [];
  let webhookServerUrl: string | undefined;
  const listeners: Array<(update: CallUpdate) => void> = [];
  const waiters = new Set<() => void>();
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 20500, `Internal Server Error: ${(error as Error).message}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const atMs = performance.now();
    const requestUrl = new URL(req.url ?? '/', 'http://fake.twilio');
    const path = requestUrl.pathname;
    const body = await readBody(req);
    const contentType = req.headers['content-type'];
    const formParams = contentType?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body) : new URLSearchParams();
    const formValues: Record<string, string[]> = {};
    for (const [name, value] of formParams) (formValues[name] ??= []).push(value);
    const record: RecordedRestRequest = {
      atMs,
      method: req.method ?? '',
      path,
      authorized: req.headers.authorization === expectedAuth,
      contentType,
      form: Object.fromEntries(formParams),
      formValues,
      query: Object.fromEntries(requestUrl.searchParams),
      responseStatus: 0,
    };
    const form = record.form;
    requests.push(record);
    const answer = (status: number, send: () => void): void => {
      record.responseStatus = status;
      send();
      for (const wake of [...waiters]) wake();
    };

    if (!record.authorized) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Twilio API"');
      return answer(401, () => sendError(res, 401, 20003, 'Authenticate'));
    }
    const notFound = (): void => answer(404, () => sendError(res, 404, 20404, `The requested resource ${path} was not found`));
    const ownAccount = (pattern: RegExp): RegExpExecArray | undefined => {
      const found = pattern.exec(path);
      return found !== null && found[1] === options.accountSid ? found : undefined;
    };
    if (ACCOUNT_PATH.test(path)) {
      if (ownAccount(ACCOUNT_PATH) === undefined) return notFound();
      if (req.method !== 'GET') return answer(405, () => sendError(res, 405, 20004, 'Method not allowed'));
      return answer(200, () => sendJson(res, 200, accountResource()));
    }
    if (ALERTS_PATH.test(path)) {
      if (req.method !== 'GET') return answer(405, () => sendError(res, 405, 20004, 'Method not allowed'));
      return answer(200, () => sendJson(res, 200, listAlerts(requestUrl.searchParams)));
    }
    if (ownAccount(CALLS_PATH) !== undefined) {
      if (req.method !== 'POST') return answer(405, () => sendError(res, 405, 20004, 'Method not allowed'));
      return createCall(record, formValues, res, answer);
    }
    if (ownAccount(NUMBERS_PATH) !== undefined) {
      if (req.method !== 'GET') return answer(501, () => sendError(res, 501, 20500, 'The fake does not provision numbers'));
      const listed = listNumbers(requestUrl.searchParams, path);
      if ('error' in listed) return answer(400, () => sendError(res, 400, listed.code, listed.error));
      return answer(200, () => sendJson(res, 200, listed.page));
    }
    const numberMatch = ownAccount(NUMBER_PATH);
    if (numberMatch !== undefined) {
      const number = [...numbers.values()].find((candidate) => candidate.sid === numberMatch[2]);
      if (number === undefined) return notFound();
      if (req.method === 'GET') return answer(200, () => sendJson(res, 200, numberResource(number, options.accountSid)));
      if (req.method !== 'POST') return answer(405, () => sendError(res, 405, 20004, 'Method not allowed'));
      const problem = updateNumber(number, form);
      if (problem !== undefined) return answer(400, () => sendError(res, 400, problem.code, problem.error));
      return answer(200, () => sendJson(res, 200, numberResource(number, options.accountSid)));
    }
    const recordingsMatch = ownAccount(RECORDINGS_PATH);
    if (recordingsMatch !== undefined) {
      if (req.method !== 'POST') return answer(405, () => sendError(res, 405, 20004, 'Method not allowed'));
      const created = createRecording(calls.get(recordingsMatch[2] as string), record);
      if ('error' in created) return answer(created.status, () => sendError(res, created.status, created.code, created.error));
      answer(201, () => sendJson(res, 201, recordingResource(created.recording, options.accountSid)));
      if (created.recording.statusCallbackEvents.includes('in-progress')) void sendRecordingStatus(created.recording);
      return;
    }
    const match = ownAccount(CALL_PATH);
    if (match === undefined) return notFound();
    const call = calls.get(match[2] as string);
    // Twilio answers 404 for a call it does not know; an ended call can no longer be modified either.
    if (call === undefined || (req.method === 'POST' && (call.status === 'completed' || call.status === 'canceled'))) {
      return answer(404, () => sendError(res, 404, 20404, `The requested resource ${path} was not found`));
    }
    if (req.method === 'GET') return answer(200, () => sendJson(res, 200, callResource(call, options.accountSid)));
    if (req.method !== 'POST') return answer(405, () => sendError(res, 405, 20004, 'Method not allowed'));

    if (!contentType?.startsWith('application/x-www-form-urlencoded')) {
      return answer(415, () => sendError(res, 415, 20001, 'Unsupported Media Type: send application/x-www-form-urlencoded'));
    }
    const { Status: status, Twiml: twiml, Url: url } = form;
    if (status !== undefined && status !== 'completed' && status !== 'canceled') {
      return answer(400, () => sendError(res, 400, 21218, `Invalid value for Status: ${status}`));
    }
    if (twiml !== undefined && url !== undefined) return answer(400, () => sendError(res, 400, 21205, 'Twiml and Url are mutually exclusive'));
    if (twiml !== undefined && (twiml.length > MAX_TWIML_CHARS || !/<Response[\s>/]/.test(twiml))) {
      return answer(400, () => sendError(res, 400, 21205, 'Twiml is not a valid TwiML document'));
    }

    let update: CallUpdate['kind'] | undefined;
    if (status === 'completed' || (status === 'canceled' && (call.status === 'queued' || call.status === 'ringing'))) {
      call.status = status;
      call.endTime = new Date();
      update = 'completed';
    } else if (twiml !== undefined) {
      call.twiml = twiml;
      update = 'redirected';
    }
    if (update === 'completed') completeRecordings(call.sid);
    if (update !== undefined) for (const listener of listeners) listener({ call, kind: update, request: record });
    return answer(200, () => sendJson(res, 200, callResource(call, options.accountSid)));
  }

  /** `POST Calls.json`: validated in the order Twilio reports problems, one error per request. */
  function createCall(record: RecordedRestRequest, values: Record<string, string[]>, res: ServerResponse, answer: (status: number, send: () => void) => void): void {
    const refuse = (code: number, message: string): void => answer(400, () => sendError(res, 400, code, message));
    const { To: to, From: from, Url: url, Twiml: twiml, ApplicationSid: applicationSid, Timeout: timeout } = record.form;
    if (to === undefined || to === '') return refuse(21201, "No 'To' number is specified");
    if (from === undefined || from === '') return refuse(21213, "No 'From' number is specified");
    if (url === undefined && twiml === undefined && applicationSid === undefined) return refuse(21205, 'Url parameter is required.');
    if (url !== undefined && !isHttpUrl(url)) return refuse(21205, `Url is not a valid URL: ${url}`);
    if (twiml !== undefined && url === undefined && (twiml.length > MAX_TWIML_CHARS || !/<Response[\s>/]/.test(twiml))) {
      return refuse(21205, 'Twiml is not a valid TwiML document');
    }
    const statusCallback = record.form.StatusCallback;
    if (statusCallback !== undefined && !isHttpUrl(statusCallback)) return refuse(INVALID_PARAMETER, `StatusCallback is not a valid URL: ${statusCallback}`);
    const events = values.StatusCallbackEvent ?? [];
    const unknownEvent = events.find((event) => !CALL_STATUS_EVENTS.has(event));
    if (unknownEvent !== undefined) return refuse(INVALID_PARAMETER, `Invalid StatusCallbackEvent: ${unknownEvent}`);
    const amd = amdSettings(record.form);
    if ('error' in amd) return refuse(INVALID_PARAMETER, amd.error);
    // Ring time: 1 to 600 seconds.
    if (timeout !== undefined && !(/^\d+$/.test(timeout) && Number(timeout) >= 1 && Number(timeout) <= 600)) return refuse(INVALID_PARAMETER, `Invalid Timeout: ${timeout}`);
    if (!/^\+[1-9]\d{1,14}$/.test(to) || to === from) return refuse(21211, `Invalid 'To' Phone Number: ${to}`);
    if (!numbers.has(from)) {
      return refuse(
        21210,
        `The source phone number provided, ${from}, is not yet verified for your account. You may only make calls from phone numbers that you've verified or purchased from Twilio.`,
      );
    }
    const call: FakeCall = {
      sid: `CA${randomBytes(16).toString('hex')}`,
      from,
      to,
      direction: 'outbound-api',
      status: 'queued',
      startTime: new Date(),
      endTime: undefined,
      twiml: url === undefined ? twiml : undefined, // with both, Twilio uses Url and ignores Twiml
      url,
      method: url === undefined ? undefined : (record.form.Method ?? 'POST'),
      statusCallback,
      statusCallbackMethod: statusCallback === undefined ? undefined : (record.form.StatusCallbackMethod ?? 'POST'),
      // Without StatusCallbackEvent, Twilio only reports `completed`.
      statusCallbackEvents: statusCallback === undefined ? [] : events.length > 0 ? events : ['completed'],
      ...amd,
      answeredBy: undefined,
    };
    if (call.machineDetection !== undefined && record.form.AsyncAmd === 'true' && call.asyncAmdStatusCallback === undefined) {
      warnings.push(`21262 No AMD status callback URL provided (call ${call.sid})`);
    }
    calls.set(call.sid, call);
    createdCalls.push(call);
    return answer(201, () => sendJson(res, 201, callResource(call, options.accountSid)));
  }

  /** `POST Calls/{CallSid}/Recordings.json`: only a call in progress can be recorded. */
  function createRecording(call: FakeCall | undefined, record: RecordedRestRequest): { recording: FakeRecording } | { status: number; code: number; error: string } {
    if (call === undefined) return { status: 404, code: 20404, error: `The requested resource ${record.path} was not found` };
    if (call.status !== 'in-progress') return { status: 400, code: 21220, error: 'Invalid call state: only a call in progress can be recorded' };
    const { RecordingChannels: channels = 'mono', RecordingTrack: track = 'both', RecordingStatusCallback: callback } = record.form;
    if (channels !== 'mono' && channels !== 'dual') return { status: 400, code: INVALID_PARAMETER, error: `Invalid RecordingChannels: ${channels}` };
    if (!['inbound', 'outbound', 'both'].includes(track)) return { status: 400, code: INVALID_PARAMETER, error: `Invalid RecordingTrack: ${track}` };
    if (callback !== undefined && !isHttpUrl(callback)) return { status: 400, code: INVALID_PARAMETER, error: `RecordingStatusCallback is not a valid URL: ${callback}` };
    // One parameter per event, or several separated by spaces (the Calls resource documents both spellings).
    const events = (record.formValues.RecordingStatusCallbackEvent ?? ['completed']).flatMap((value) => value.split(' ')).filter((e) => e !== '');
    const unknown = events.find((event) => !RECORDING_STATUS_EVENTS.has(event));
    if (unknown !== undefined) return { status: 400, code: INVALID_PARAMETER, error: `Invalid RecordingStatusCallbackEvent: ${unknown}` };
    const recording: FakeRecording = {
      sid: `RE${randomBytes(16).toString('hex')}`,
      callSid: call.sid,
      channels: channels === 'dual' ? 2 : 1,
      track,
      status: 'in-progress',
      startTime: new Date(),
      endTime: undefined,
      statusCallback: callback,
      statusCallbackEvents: events,
    };
    recordings.push(recording);
    return { recording };
  }

  function completeRecordings(callSid: string): void {
    for (const recording of recordings) {
      if (recording.callSid !== callSid || recording.status !== 'in-progress') continue;
      recording.status = 'completed';
      recording.endTime = new Date();
      if (recording.statusCallbackEvents.includes('completed')) void sendRecordingStatus(recording);
    }
  }

  /** The recording status callback's parameters (https://www.twilio.com/docs/voice/api/recording#recordingstatuscallback). */
  function sendRecordingStatus(recording: FakeRecording): Promise<DeliveredCallback | undefined> {
    if (recording.statusCallback === undefined) return Promise.resolve(undefined);
    const durationSeconds = recording.endTime === undefined ? undefined : Math.round((recording.endTime.getTime() - recording.startTime.getTime()) / 1000);
    return deliver(recording.statusCallback, {
      AccountSid: options.accountSid,
      CallSid: recording.callSid,
      RecordingSid: recording.sid,
      RecordingUrl: `${API_ORIGIN}/${API_VERSION}/Accounts/${options.accountSid}/Recordings/${recording.sid}`,
      RecordingStatus: recording.status,
      RecordingChannels: String(recording.channels),
      RecordingStartTime: rfc2822(recording.startTime),
      RecordingSource: 'StartCallRecordingAPI',
      RecordingTrack: recording.track,
      ...(durationSeconds === undefined ? {} : { RecordingDuration: String(durationSeconds) }),
    });
  }

  /** A signed callback to the server given to `deliverWebhooksTo`, recorded with its answer. */
  async function deliver(url: string, params: Record<string, string>): Promise<DeliveredCallback> {
    if (webhookServerUrl === undefined) throw new Error('fake Twilio REST API: deliverWebhooksTo(serverUrl) first');
    const atMs = performance.now();
    const result = await postTwilioRequest({ serverUrl: webhookServerUrl, url, authToken: options.authToken, params });
    const delivered: DeliveredCallback = { atMs, url, params, status: result.status };
    callbacks.push(delivered);
    return delivered;
  }

  /** `GET IncomingPhoneNumbers.json`: `PhoneNumber` matches partial numbers, `*` standing for any digit. */
  function listNumbers(query: URLSearchParams, path: string): { page: Record<string, unknown> } | { error: string; code: number } {
    const pageSizeText = query.get('PageSize') ?? String(DEFAULT_PAGE_SIZE);
    const pageText = query.get('Page') ?? '0';
    if (!/^\d+$/.test(pageSizeText) || Number(pageSizeText) < 1 || Number(pageSizeText) > MAX_PAGE_SIZE) {
      return { error: `PageSize must be from 1 to ${MAX_PAGE_SIZE}`, code: INVALID_PARAMETER };
    }
    if (!/^\d+$/.test(pageText)) return { error: 'Page must be a non-negative integer', code: INVALID_PARAMETER };
    const pageSize = Number(pageSizeText);
    const page = Number(pageText);
    const filter = query.get('PhoneNumber');
    const friendlyName = query.get('FriendlyName');
    const pattern = filter === null ? undefined : new RegExp(filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '\\d'));
    const matching = [...numbers.values()]
      .filter((number) => pattern === undefined || pattern.test(number.phoneNumber))
      .filter((number) => friendlyName === null || number.friendlyName === friendlyName)
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime()); // newest first, as Twilio lists them
    const start = page * pageSize;
    const items = matching.slice(start, start + pageSize);
    const pageUri = (index: number): string => {
      const params = new URLSearchParams();
      if (filter !== null) params.set('PhoneNumber', filter);
      if (friendlyName !== null) params.set('FriendlyName', friendlyName);
      params.set('PageSize', String(pageSize));
      params.set('Page', String(index));
      return `${path}?${params.toString()}`;
    };
    return {
      page: {
        end: start + Math.max(items.length - 1, 0),
        first_page_uri: pageUri(0),
        incoming_phone_numbers: items.map((number) => numberResource(number, options.accountSid)),
        next_page_uri: start + pageSize < matching.length ? pageUri(page + 1) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        start,
        uri: pageUri(page),
      },
    };
  }

  function updateNumber(number: FakeIncomingNumber, form: Record<string, string>): { error: string; code: number } | undefined {
    const { VoiceUrl: voiceUrl, VoiceMethod: voiceMethod, VoiceFallbackUrl: fallbackUrl, VoiceFallbackMethod: fallbackMethod } = form;
    for (const [name, value] of [['VoiceUrl', voiceUrl], ['VoiceFallbackUrl', fallbackUrl], ['StatusCallback', form.StatusCallback]] as const) {
      if (value !== undefined && value !== '' && !isHttpUrl(value)) return { error: `${name} is not a valid URL: ${value}`, code: 21502 };
    }
    for (const [name, value] of [['VoiceMethod', voiceMethod], ['VoiceFallbackMethod', fallbackMethod], ['StatusCallbackMethod', form.StatusCallbackMethod]] as const) {
      if (value !== undefined && value !== 'GET' && value !== 'POST') return { error: `${name} must be GET or POST (got ${value})`, code: INVALID_PARAMETER };
    }
    const applicationSid = form.VoiceApplicationSid;
    if (applicationSid !== undefined && applicationSid !== '' && !/^AP[0-9a-f]{32}$/.test(applicationSid)) {
      return { error: `VoiceApplicationSid is not a valid Application SID: ${applicationSid}`, code: INVALID_PARAMETER };
    }
    if (voiceUrl !== undefined) number.voiceUrl = voiceUrl;
    if (voiceMethod !== undefined) number.voiceMethod = voiceMethod;
    if (fallbackUrl !== undefined) number.voiceFallbackUrl = fallbackUrl;
    if (fallbackMethod !== undefined) number.voiceFallbackMethod = fallbackMethod;
    if (applicationSid !== undefined) number.voiceApplicationSid = applicationSid;
    if (form.StatusCallback !== undefined) number.statusCallback = form.StatusCallback;
    if (form.StatusCallbackMethod !== undefined) number.statusCallbackMethod = form.StatusCallbackMethod;
    if (form.FriendlyName !== undefined) number.friendlyName = form.FriendlyName;
    number.dateUpdated = new Date();
    return undefined;
  }

  function accountResource(): Record<string, unknown> {
    const created = new Date('2024-01-15T10:00:00Z').toUTCString();
    return {
      sid: options.accountSid,
      friendly_name: 'My first Twilio account',
      status: options.accountStatus ?? 'active',
      type: options.accountType ?? 'Full',
      owner_account_sid: options.accountSid,
      date_created: created,
      date_updated: created,
      uri: `/${API_VERSION}/Accounts/${options.accountSid}.json`,
    };
  }

  /** `GET /v1/Alerts`: newest first; `StartDate`/`EndDate` are ISO 8601 (date or date-time), `LogLevel` filters. */
  function listAlerts(query: URLSearchParams): Record<string, unknown> {
    const start = query.get('StartDate');
    const end = query.get('EndDate');
    const level = query.get('LogLevel');
    const pageSize = Math.min(Number(query.get('PageSize') ?? DEFAULT_PAGE_SIZE) || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const matching = alerts
      .filter((alert) => (start === null || alert.dateCreated >= new Date(start)) && (end === null || alert.dateCreated <= new Date(end)) && (level === null || alert.logLevel === level))
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime());
    const url = `https://monitor.twilio.com/v1/Alerts?PageSize=${pageSize}&Page=0`;
    return {
      alerts: matching.slice(0, pageSize).map((alert) => ({
        account_sid: options.accountSid,
        alert_text: alert.alertText,
        api_version: API_VERSION,
        date_created: alert.dateCreated.toISOString(),
        date_generated: alert.dateCreated.toISOString(),
        date_updated: alert.dateCreated.toISOString(),
        error_code: alert.errorCode,
        log_level: alert.logLevel,
        more_info: `https://www.twilio.com/docs/errors/${alert.errorCode}`,
        resource_sid: alert.resourceSid,
        sid: alert.sid,
        url: `https://monitor.twilio.com/v1/Alerts/${alert.sid}`,
      })),
      meta: { page: 0, page_size: pageSize, first_page_url: url, previous_page_url: null, url, next_page_url: null, key: 'alerts' },
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    addCall({ sid, from = '+14155550123', to = '+16505550199', status = 'in-progress' }) {
      const call: FakeCall = {
        sid,
        from,
        to,
        direction: 'inbound',
        status,
        startTime: new Date(),
        endTime: undefined,
        twiml: undefined,
        url: undefined,
        method: undefined,
        statusCallback: undefined,
        statusCallbackMethod: undefined,
        statusCallbackEvents: [],
        machineDetection: undefined,
        asyncAmdStatusCallback: undefined,
        answeredBy: undefined,
      };
      calls.set(sid, call);
      return call;
    },
    deliverWebhooksTo(serverUrl) {
      webhookServerUrl = serverUrl;
    },
    callbacks,
    warnings,
    recordings,
    async sendAmdVerdict(callSid, answeredBy, machineDetectionDurationMs) {
      const call = calls.get(callSid);
      if (call?.machineDetection === undefined || call.asyncAmdStatusCallback === undefined) throw new Error(`call ${callSid} did not ask for asynchronous answering machine detection`);
      call.answeredBy = answeredBy;
      return deliver(call.asyncAmdStatusCallback, { AccountSid: options.accountSid, CallSid: callSid, AnsweredBy: answeredBy, MachineDetectionDuration: String(machineDetectionDurationMs) });
    },
    completeCall(sid) {
      const call = calls.get(sid);
      if (call === undefined || call.status === 'completed') return;
      call.status = 'completed';
      call.endTime = new Date();
      completeRecordings(sid);
    },
    getCall: (sid) => calls.get(sid),
    createdCalls,
    addIncomingNumber({ phoneNumber, ...settings }) {
      const now = new Date();
      const number: FakeIncomingNumber = {
        sid: `PN${randomBytes(16).toString('hex')}`,
        phoneNumber,
        friendlyName: phoneNumber,
        voiceUrl: DEMO_VOICE_URL,
        voiceMethod: 'POST',
        voiceFallbackUrl: null,
        voiceFallbackMethod: 'POST',
        voiceApplicationSid: '',
        statusCallback: '',
        statusCallbackMethod: 'POST',
        trunkSid: null,
        ...settings,
        dateCreated: now,
        dateUpdated: now,
      };
      numbers.set(phoneNumber, number);
      return number;
    },
    getIncomingNumber: (phoneNumber) => numbers.get(phoneNumber),
    addAlert({ errorCode, ...rest }) {
      const alert: FakeAlert = {
        sid: `NO${randomBytes(16).toString('hex')}`,
        errorCode: String(errorCode),
        logLevel: 'error',
        alertText: `ErrorCode=${errorCode}`,
        dateCreated: new Date(),
        resourceSid: `CA${randomBytes(16).toString('hex')}`,
        ...rest,
      };
      alerts.push(alert);
      return alert;
    },
    onCallUpdated: (listener) => void listeners.push(listener),
    waitForRequest(predicate, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = requests.find((request) => request.responseStatus !== 0 && predicate(request));
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching Twilio REST request within ${timeoutMs} ms; got ${JSON.stringify(requests.map((r) => `${r.method} ${r.path} ${r.responseStatus}`))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `MachineDetection`, `AsyncAmd`, `AsyncAmdStatusCallback(Method)` of a new call, or what is wrong with them. */
function amdSettings(form: Record<string, string>): Pick<FakeCall, 'machineDetection' | 'asyncAmdStatusCallback'> | { error: string } {
  const { MachineDetection: detection, AsyncAmd: asyncAmd, AsyncAmdStatusCallback: callback, AsyncAmdStatusCallbackMethod: method } = form;
  if (detection !== undefined && detection !== 'Enable' && detection !== 'DetectMessageEnd') return { error: `Invalid MachineDetection: ${detection}` };
  if (asyncAmd !== undefined && asyncAmd !== 'true' && asyncAmd !== 'false') return { error: `Invalid AsyncAmd: ${asyncAmd}` };
  if (callback !== undefined && !isHttpUrl(callback)) return { error: `AsyncAmdStatusCallback is not a valid URL: ${callback}` };
  if (method !== undefined && method !== 'GET' && method !== 'POST') return { error: `Invalid AsyncAmdStatusCallbackMethod: ${method}` };
  return { machineDetection: detection, asyncAmdStatusCallback: asyncAmd === 'true' ? callback : undefined };
}

function recordingResource(recording: FakeRecording, accountSid: string): Record<string, unknown> {
  return {
    account_sid: accountSid,
    api_version: API_VERSION,
    call_sid: recording.callSid,
    conference_sid: null,
    date_created: rfc2822(recording.startTime),
    date_updated: rfc2822(new Date()),
    start_time: rfc2822(recording.startTime),
    duration: '-1',
    sid: recording.sid,
    price: null,
    price_unit: 'USD',
    status: recording.status,
    channels: recording.channels,
    source: 'StartCallRecordingAPI',
    error_code: null,
    track: recording.track,
    uri: `/${API_VERSION}/Accounts/${accountSid}/Calls/${recording.callSid}/Recordings/${recording.sid}.json`,
    encryption_details: null,
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

/** RFC 2822 with a numeric zone, as Twilio writes dates: "Tue, 31 Aug 2010 20:36:28 +0000". */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function callResource(call: FakeCall, accountSid: string): Record<string, unknown> {
  const uri = `/${API_VERSION}/Accounts/${accountSid}/Calls/${call.sid}.json`;
  const durationSeconds = call.endTime === undefined ? null : String(Math.round((call.endTime.getTime() - call.startTime.getTime()) / 1000));
  return {
    sid: call.sid,
    account_sid: accountSid,
    parent_call_sid: null,
    date_created: rfc2822(call.startTime),
    date_updated: rfc2822(new Date()),
    to: call.to,
    to_formatted: call.to,
    from: call.from,
    from_formatted: call.from,
    phone_number_sid: null,
    status: call.status,
    start_time: rfc2822(call.startTime),
    end_time: call.endTime === undefined ? null : rfc2822(call.endTime),
    duration: durationSeconds,
    price: null,
    price_unit: 'USD',
    direction: call.direction,
    answered_by: call.answeredBy ?? null,
    api_version: API_VERSION,
    forwarded_from: call.to,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri,
    subresource_uris: {
      notifications: uri.replace('.json', '/Notifications.json'),
      recordings: uri.replace('.json', '/Recordings.json'),
      payments: uri.replace('.json', '/Payments.json'),
      events: uri.replace('.json', '/Events.json'),
      siprec: uri.replace('.json', '/Siprec.json'),
      streams: uri.replace('.json', '/Streams.json'),
      transcriptions: uri.replace('.json', '/Transcriptions.json'),
      user_defined_message_subscriptions: uri.replace('.json', '/UserDefinedMessageSubscriptions.json'),
      user_defined_messages: uri.replace('.json', '/UserDefinedMessages.json'),
    },
  };
}

/** An IncomingPhoneNumber as Twilio's JSON shows it: snake_case, RFC 2822 dates, empty strings for unset SIDs. */
function numberResource(number: FakeIncomingNumber, accountSid: string): Record<string, unknown> {
  const uri = `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers/${number.sid}.json`;
  return {
    account_sid: accountSid,
    address_requirements: 'none',
    address_sid: null,
    api_version: API_VERSION,
    beta: false,
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    date_created: rfc2822(number.dateCreated),
    date_updated: rfc2822(number.dateUpdated),
    emergency_status: 'Inactive',
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    friendly_name: number.friendlyName,
    identity_sid: null,
    origin: 'twilio',
    phone_number: number.phoneNumber,
    sid: number.sid,
    sms_application_sid: '',
    sms_fallback_method: 'POST',
    sms_fallback_url: '',
    sms_method: 'POST',
    sms_url: '',
    status_callback: number.statusCallback,
    status_callback_method: number.statusCallbackMethod,
    trunk_sid: number.trunkSid,
    uri,
    voice_application_sid: number.voiceApplicationSid,
    voice_caller_id_lookup: false,
    voice_fallback_method: number.voiceFallbackMethod,
    voice_fallback_url: number.voiceFallbackUrl,
    voice_method: number.voiceMethod,
    voice_url: number.voiceUrl,
    bundle_sid: null,
    voice_receive_mode: 'voice',
    status: 'in-use',
    type: 'local',
    subresource_uris: { assigned_add_ons: uri.replace('.json', '/AssignedAddOns.json') },
  };
}
