import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import twilio from 'twilio';
import WebSocket, { WebSocketServer } from 'ws';
import { HEALTH_PATH, MEDIA_STREAM_PATH } from '../telephony/routes.js';
import { fail, pass, within, type CheckResult } from './check.js';

export interface ReachabilityOptions {
  /** PUBLIC_URL. */
  publicUrl: URL;
  /** Where PUBLIC_URL is reached from this machine, when not at itself (the tests: a loopback http proxy). */
  reachFrom?: string;
  /** Where this service listens (PORT, HOST). */
  port: number;
  host: string;
  /** Signs the upgrade as Twilio would, when the service itself answers (it refuses unsigned streams). */
  authToken: string;
  timeoutMs?: number;
}

const HEALTH = 'PUBLIC_URL reaches this service';
const UPGRADE = 'PUBLIC_URL passes WebSocket upgrades';
const UPGRADE_FIX =
  'the proxy or tunnel in front must pass WebSocket upgrades to this service (nginx: proxy_http_version 1.1 and the Upgrade and Connection headers); Twilio would log 31920 and the caller hear nothing';

/**
 * What Twilio needs of PUBLIC_URL: `GET /healthz` through it reaches this machine's PORT, and a WebSocket upgrade of
 * `/media` through it is switched (101), not refused or dropped. When the service is not running, a stand-in listens on
 * PORT for the check and answers with a random token only it knows, so an answer from another server does not pass;
 * when it is running, it answers itself, and the upgrade is signed as Twilio signs it.
 */
export async function checkPublicUrl(options: ReachabilityOptions): Promise<CheckResult[]> {
  const base = new URL(options.reachFrom ?? options.publicUrl.origin);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const nonce = randomBytes(12).toString('hex');
  const standIn = await listenStandIn(options.port, options.host, nonce);
  try {
    const health = await checkHealth(new URL(HEALTH_PATH, base), standIn === undefined ? undefined : nonce, options.port, timeoutMs);
    const wsUrl = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${MEDIA_STREAM_PATH}`;
    const signedFor = `wss://${options.publicUrl.host}${MEDIA_STREAM_PATH}`;
    const upgrade = await checkUpgrade(wsUrl, standIn === undefined ? { signature: twilio.getExpectedTwilioSignature(options.authToken, signedFor, {}) } : { nonce, port: options.port }, timeoutMs);
    return [health, upgrade];
  } finally {
    await standIn?.close();
  }
}

async function checkHealth(url: URL, nonce: string | undefined, port: number, timeoutMs: number): Promise<CheckResult> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    return fail(HEALTH, `${url.origin} does not answer (${cause}): start the tunnel or proxy, and check that PUBLIC_URL is its current URL`);
  }
  const body = await response.text().catch(() => '');
  if (nonce !== undefined) {
    if (body.includes(nonce)) return pass(HEALTH, `GET ${url.pathname} through ${url.origin} reached port ${port} here`);
    return fail(HEALTH, `${url.origin} answers (HTTP ${response.status}) but not from port ${port} of this machine: point the tunnel or proxy at this service's PORT`);
  }
  if (response.ok && /"status"\s*:\s*"ok"/.test(body)) return pass(HEALTH, `GET ${url.pathname} through ${url.origin} answered like this service (it is running)`);
  return fail(HEALTH, `${url.origin}${url.pathname} answered HTTP ${response.status}, not this service's health: point the tunnel or proxy at this service's PORT`);
}

function checkUpgrade(url: string, expect: { nonce: string; port: number } | { signature: string }, timeoutMs: number): Promise<CheckResult> {
  return within(
    new Promise<CheckResult>((resolve) => {
      const ws = new WebSocket(url, 'signature' in expect ? { headers: { 'x-twilio-signature': expect.signature } } : {});
      const done = (result: CheckResult): void => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        resolve(result);
      };
      ws.on('open', () => {
        if ('signature' in expect) done(pass(UPGRADE, `${url} switched to WebSocket (101), signed as Twilio signs it`));
      });
      ws.on('message', (data) => {
        if ('nonce' in expect && data.toString() === expect.nonce) done(pass(UPGRADE, `${url} switched to WebSocket and reached port ${expect.port} here`));
      });
      ws.on('unexpected-response', (_request, response) => {
        const refusedSignature = 'signature' in expect && response.statusCode === 403;
        done(
          fail(
            UPGRADE,
            refusedSignature
              ? `the running service refused a stream signed with TWILIO_AUTH_TOKEN for ${url}: its PUBLIC_URL or token differ from these`
              : `${url} answered HTTP ${response.statusCode} instead of switching to WebSocket: ${UPGRADE_FIX}`,
          ),
        );
      });
      ws.on('error', (error) => done(fail(UPGRADE, `${url} could not be opened (${error.message}): ${UPGRADE_FIX}`)));
      ws.on('close', () => done(fail(UPGRADE, `${url} was closed before it answered: ${UPGRADE_FIX}`)));
    }),
    timeoutMs,
    url,
  ).catch((error: unknown) => fail(UPGRADE, `${(error as Error).message}: ${UPGRADE_FIX}`));
}

/**
 * Listens on PORT for the check when the service does not: `/healthz` and a WebSocket on `/media` answer with the
 * nonce. Undefined when the port is taken (the service runs and answers itself).
 */
async function listenStandIn(port: number, host: string, nonce: string): Promise<{ close(): Promise<void> } | undefined> {
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((req, res) => {
    const found = req.url === HEALTH_PATH;
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    res.end(found ? JSON.stringify({ status: 'ok', doctor: nonce }) : '{}');
  });
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith(MEDIA_STREAM_PATH)) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => ws.send(nonce, () => ws.close(1000)));
  });
  const listening = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
    server.listen(port, host, () => resolve(true));
  });
  if (!listening) return undefined;
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
