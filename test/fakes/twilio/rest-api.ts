/**
 * A local fake of Twilio's REST API, Calls resource only (https://www.twilio.com/docs/voice/api/call-resource),
 * for mid-call control: fetch a call, and update it with `Status=completed` (hang up) or `Twiml=...` (redirect).
 *
 * Follows the public API: HTTP basic auth with the account SID and auth token (401, error 20003, otherwise);
 * form-encoded POST bodies with capitalised parameter names; JSON call resources with snake_case fields and
 * RFC 2822 dates; errors as `{code, message, more_info, status}`; 404 with error 20404 for a call that does not
 * exist, or has already ended. Every request is recorded, including refused ones.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeCallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'canceled';

export interface FakeCall {
  sid: string;
  from: string;
  to: string;
  status: FakeCallStatus;
  startTime: Date;
  endTime: Date | undefined;
  /** The TwiML the call was last redirected to (`Twiml=`), if any. */
  twiml: string | undefined;
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
}

export interface FakeTwilioRestApi {
  /** e.g. `http://127.0.0.1:PORT`, for TWILIO_API_BASE_URL. */
  readonly baseUrl: string;
  readonly requests: readonly RecordedRestRequest[];
  /** A call Twilio knows about (an inbound call is `in-progress` while its media stream runs). */
  addCall(call: { sid: string; from?: string; to?: string; status?: FakeCallStatus }): FakeCall;
  getCall(sid: string): FakeCall | undefined;
  /** Runs when an update takes effect, before the HTTP answer, as Twilio acts on a call before it answers. */
  onCallUpdated(listener: (update: CallUpdate) => void): void;
  /** Resolves with the first recorded request matching `predicate` (already recorded or still to come). */
  waitForRequest(predicate: (request: RecordedRestRequest) => boolean, timeoutMs?: number): Promise<RecordedRestRequest>;
  close(): Promise<void>;
}

const API_VERSION = '2010-04-01';
const CALL_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Calls\/(CA[0-9a-f]{32})\.json$/;
/** Twilio's limit for inline TwiML on a call update. */
const MAX_TWIML_CHARS = 4_000;
const MAX_BODY_BYTES = 64 * 1024;

export async function startFakeTwilioRestApi(options: FakeTwilioRestApiOptions): Promise<FakeTwilioRestApi> {
  const calls = new Map<string, FakeCall>();
  const requests: RecordedRestRequest[] = [];
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
    const path = (req.url ?? '').split('?')[0] ?? '';
    const body = await readBody(req);
    const contentType = req.headers['content-type'];
    const form = contentType?.startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(body)) : {};
    const record: RecordedRestRequest = {
      atMs,
      method: req.method ?? '',
      path,
      authorized: req.headers.authorization === expectedAuth,
      contentType,
      form,
      responseStatus: 0,
    };
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
    const match = CALL_PATH.exec(path);
    if (match === null || match[1] !== options.accountSid) {
      return answer(404, () => sendError(res, 404, 20404, `The requested resource ${path} was not found`));
    }
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
    if (update !== undefined) for (const listener of listeners) listener({ call, kind: update, request: record });
    return answer(200, () => sendJson(res, 200, callResource(call, options.accountSid)));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    addCall({ sid, from = '+14155550123', to = '+16505550199', status = 'in-progress' }) {
      const call: FakeCall = { sid, from, to, status, startTime: new Date(), endTime: undefined, twiml: undefined };
      calls.set(sid, call);
      return call;
    },
    getCall: (sid) => calls.get(sid),
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
    direction: 'inbound',
    answered_by: null,
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
