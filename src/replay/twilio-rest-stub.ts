import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallUpdate {
  callSid: string;
  /** `hang-up`: Status=completed; `redirect`: new TwiML (a transfer, or the apology), which ends the stream too. */
  kind: 'hang-up' | 'redirect';
}

export interface TwilioRestStub {
  /** For TWILIO_API_BASE_URL. */
  readonly baseUrl: string;
  readonly updates: readonly CallUpdate[];
  close(): Promise<void>;
}

const CALL_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Calls\/(CA[0-9a-fA-F]{32})\.json$/;
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Just enough of Twilio's REST API for a replayed call to end itself: updating a call (Calls
 * resource) with `Status=completed` or `Twiml=…`, checked against the account's credentials, answered
 * like Twilio, then reported so the replay's Twilio side ends the media stream as Twilio would.
 * Nothing leaves the machine during a replay.
 */
export async function startTwilioRestStub(options: { accountSid: string; authToken: string; onUpdate: (update: CallUpdate) => void }): Promise<TwilioRestStub> {
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const updates: CallUpdate[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    if (req.headers.authorization !== expectedAuth) return sendError(res, 401, 20003, 'Authenticate');
    const match = CALL_PATH.exec((req.url ?? '').split('?')[0] ?? '');
    if (match === null || match[1] !== options.accountSid) return sendError(res, 404, 20404, 'The requested resource was not found');
    const callSid = match[2]!;
    if (req.method !== 'POST') return sendJson(res, 200, callResource(options.accountSid, callSid, 'in-progress'));
    const form = new URLSearchParams(body);
    const kind = form.get('Status') === 'completed' ? 'hang-up' : form.has('Twiml') || form.has('Url') ? 'redirect' : undefined;
    if (kind === undefined) return sendError(res, 400, 21218, 'Invalid parameter');
    const update = { callSid, kind } as const;
    updates.push(update);
    sendJson(res, 200, callResource(options.accountSid, callSid, kind === 'hang-up' ? 'completed' : 'in-progress'));
    options.onUpdate(update);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 20500, 'Internal Server Error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    updates,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function callResource(accountSid: string, callSid: string, status: string) {
  return { sid: callSid, account_sid: accountSid, status, api_version: '2010-04-01', uri: `/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json` };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
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
