import { CALL_SID_PATTERN } from '../domain/identifiers.js';
import { SHARED_PAGE_SCRIPTS_DIR, SHARED_PAGE_SCRIPTS_PATH } from '../http/shared-page-scripts.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';
import type { StreamTokenStore, CallInfo } from '../telephony/stream-tokens.js';
import type { CallControl } from '../telephony/twilio-rest.js';
import { RollingWindowLimit } from '../telephony/outbound-calls.js';
import { BROWSER_PHONE_PATH as PAGE_PATH, MEDIA_STREAM_PATH } from '../telephony/routes.js';
import { STREAM_TOKEN_PARAMETER } from '../telephony/voice-webhook.js';
import type { CallAgent } from '../agents/agent-directory.js';
import { CallEventHub } from './call-events.js';
import { ToolPanel } from './tool-panel.js';

/**
 * The browser phone: a page that acts as a phone and speaks the Twilio Media Streams protocol to `/media`, so a
 * browser call runs through exactly the code a Twilio call does (stream handshake, PhoneCall, tools, playout).
 *
 * Browsers cannot sign a WebSocket upgrade the way Twilio does, so the page gets its credentials here instead:
 *
 * 1. The page is opened at `/phone#key=<access key>` (the key is printed at start-up; a fragment never reaches
 *    the server, a proxy's log or a Referer). The page itself holds no secrets; every API below wants the key.
 * 2. `POST /phone/sessions` with `Authorization: Bearer <access key>` issues a call: a synthetic CallSid
 *    (`CA` + 32 hex), a StreamSid, a stream token from the same store Twilio calls use (single use, bound to
 *    that CallSid), and an upgrade credential for `/media/<instance id>?browserPhone=…` (single use, 60 s, bound
 *    to the CallSid). Capacity and a rate limit apply as to any call.
 * 3. `/media` accepts an upgrade without `x-twilio-signature` only with an unused, unexpired credential; the
 *    `start` that follows must be for that CallSid, carry its stream token, and use the browser account SID.
 * 4. `GET /phone/events/<instance id>/<CallSid>` (same key) streams the call's transcript, tool calls and
 *    latencies (SSE).
 * 5. `GET /phone/agent` and `POST /phone/tools/<name>` (same key): the running agent and its tools (tool-panel.ts).
 *
 * In a fleet every instance holds the same key (access-key.ts), and the session's media and events paths name the
 * instance that issued it, as a Twilio stream's URL names the instance that answered the webhook: the load
 * balancer routes both there (deploy/haproxy), where the session's credential and the call's events live.
 */
export const BROWSER_PHONE_PATH = PAGE_PATH;
/** Query parameter of the `/media` upgrade carrying the browser session's credential. */
export const BROWSER_UPGRADE_PARAMETER = 'browserPhone';
/** `CallInfo.direction` of browser calls: they have no Twilio leg and no phone numbers. */
export const BROWSER_PHONE_DIRECTION = 'browser-phone';
/** The account SID browser streams present in `start`; Twilio never issues it (no real account is all zeros). */
export const BROWSER_PHONE_ACCOUNT_SID = `AC${'0'.repeat(32)}`;
/** An issued session must open its stream within this time. */
export const BROWSER_SESSION_TTL_MS = 60_000;
/** Sessions issued per rolling minute: a leaked key still cannot open Gemini sessions without bound. */
export const BROWSER_SESSIONS_PER_MINUTE = 30;
const CREDENTIAL_BYTES = 32;
const MAX_PENDING_SESSIONS = 1_000;
/** SSE comment lines keep proxies and the browser from closing a quiet stream. */
const EVENTS_HEARTBEAT_MS = 15_000;

/** The page's files: `public/browser-phone/`, two levels above this module both in `src/` and in `dist/`. */
export const BROWSER_PHONE_STATIC_DIR = fileURLToPath(new URL('../../public/browser-phone/', import.meta.url));

/** What a valid browser upgrade entitles the stream to. */
export type { StreamGrant, UpgradeCredential as BrowserUpgrade } from '../telephony/media-stream-server.js';
import type { UpgradeCredential as BrowserUpgrade } from '../telephony/media-stream-server.js';

export interface BrowserPhoneDeps {
  /** The key the page must present (BROWSER_PHONE_KEY, or random per start). */
  accessKey: string;
  tokens: StreamTokenStore;
  log: Logger;
  /** Same capacity rule as Twilio calls: busy or draining refuses new sessions. */
  refuseReason(): 'busy' | 'draining' | undefined;
  /** Which model answers: shown on the page. */
  model: 'local' | 'gemini';
  /** The agent the page talks to (the service's default agent): named on the page, its tools in the tool panel. */
  agent: CallAgent;
  /** TOOL_TIMEOUT_MS, for the tool panel's runs. */
  toolTimeoutMs: number;
  /** INSTANCE_ID: the session's media and events paths name it, so a fleet's load balancer routes them here. */
  instanceId: string;
  staticDir?: string;
  now?: () => number;
}

/** The answer to `POST /phone/sessions`: everything the page needs to place one call. */
export interface BrowserSession {
  callSid: string;
  streamSid: string;
  accountSid: string;
  /** Goes in `start.customParameters.streamToken`, as Twilio would deliver the TwiML `<Parameter>`. */
  customParameters: Record<string, string>;
  /** Path and query of the media WebSocket (the page adds ws:// or wss:// and its host). */
  mediaPath: string;
  eventsPath: string;
  /** The agent that answers. */
  agent: string;
  model: 'local' | 'gemini';
  expiresInMs: number;
}

/** Browser calls have no Twilio leg: hanging up is closing the stream (which the call does next), nothing redirects. */
export const browserCallControl: CallControl = {
  hangUp: async () => 'updated',
  redirect: async () => {
    throw new Error('a browser-phone call has no Twilio leg to transfer or redirect');
  },
};

export function isBrowserPhoneCall(call: Pick<CallInfo, 'direction'>): boolean {
  return call.direction === BROWSER_PHONE_DIRECTION;
}

export class BrowserPhone {
  readonly events = new CallEventHub();
  private readonly accessKeyDigest: Buffer;
  /** sha256(credential) → the call it opens; the credential itself is never stored. */
  private readonly pendingUpgrades = new Map<string, { callSid: string; expiresAtMs: number }>();
  private readonly limit: RollingWindowLimit;
  private readonly now: () => number;
  private readonly openStreams = new Set<Response>();
  private readonly toolPanel: ToolPanel;

  constructor(private readonly deps: BrowserPhoneDeps) {
    this.accessKeyDigest = sha256(deps.accessKey);
    this.now = deps.now ?? Date.now;
    this.limit = new RollingWindowLimit(BROWSER_SESSIONS_PER_MINUTE, 60_000, this.now);
    this.toolPanel = new ToolPanel({ agent: deps.agent, model: deps.model, toolTimeoutMs: deps.toolTimeoutMs, log: deps.log, now: this.now });
  }

  /** The routes under `/phone`: the page, its sessions and its events. */
  router(): express.Router {
    const router = express.Router();
    const staticDir = this.deps.staticDir ?? BROWSER_PHONE_STATIC_DIR;
    router.post('/sessions', this.authenticate('session'), (req, res) => this.issueSession(req, res));
    // The page checks its key on load, so a wrong or stale one is reported before it asks for the microphone.
    router.get('/key', this.authenticate('key'), (_req, res) => {
      res.status(204).end();
    });
    router.get('/events/:instanceId/:callSid', this.authenticate('events'), (req, res) => this.streamEvents(req, res));
    router.use(this.toolPanel.routes((what) => this.authenticate(what)));
    router.get('/', (_req, res) => {
      setPageHeaders(res);
      res.sendFile('index.html', { root: staticDir }, (error) => {
        if (error !== undefined && !res.headersSent) res.status(500).type('text/plain').send('The browser phone page is missing from this build.');
      });
    });
    const assets = { index: false, dotfiles: 'ignore', redirect: false, setHeaders: (res: Response) => setPageHeaders(res) } as const;
    router.use(SHARED_PAGE_SCRIPTS_PATH, express.static(SHARED_PAGE_SCRIPTS_DIR, assets));
    router.use(express.static(staticDir, assets));
    return router;
  }

  /**
   * Checks a `/media` upgrade's browser credential and consumes it. Absent: not a browser upgrade. Present
   * but unknown, used or expired: refused. Valid: the stream may start for that call only.
   */
  redeemUpgrade(request: IncomingMessage): BrowserUpgrade {
    const query = (request.url ?? '').split('?')[1];
    if (query === undefined) return undefined;
    const credential = new URLSearchParams(query).get(BROWSER_UPGRADE_PARAMETER);
    if (credential === null) return undefined;
    this.sweepExpired();
    const key = sha256(credential).toString('hex');
    const pending = this.pendingUpgrades.get(key);
    if (pending === undefined) return { ok: false };
    this.pendingUpgrades.delete(key);
    if (pending.expiresAtMs <= this.now()) return { ok: false };
    return { ok: true, grant: { callSid: pending.callSid, accountSid: BROWSER_PHONE_ACCOUNT_SID } };
  }

  /** Ends the event streams (server stopping). */
  close(): void {
    this.events.close();
    for (const res of this.openStreams) res.end();
    this.openStreams.clear();
  }

  private authenticate(what: string): RequestHandler {
    return (req, res, next) => {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.header('authorization') ?? '');
      if (match === null || !timingSafeEqual(sha256(match[1] as string), this.accessKeyDigest)) {
        RefusalLog.for(this.deps.log).warn(req.socket.remoteAddress, { what, hasAuthorization: req.header('authorization') !== undefined }, 'browser phone refused: missing or wrong access key');
        res.status(401).json({ error: 'Open the browser phone with the URL the server printed at start-up (it carries the access key).' });
        return;
      }
      next();
    };
  }

  private issueSession(_req: Request, res: Response): void {
    const refusal = this.deps.refuseReason();
    if (refusal !== undefined) {
      res.status(503).set('Retry-After', '30').json({ error: refusal === 'draining' ? 'The service is shutting down.' : 'Every line is in use (MAX_CONCURRENT_CALLS); try again shortly.' });
      return;
    }
    const slot = this.limit.take();
    if (!slot.allowed) {
      res.status(429).set('Retry-After', String(Math.ceil(slot.retryAfterMs / 1000))).json({ error: `At most ${BROWSER_SESSIONS_PER_MINUTE} browser calls a minute.` });
      return;
    }
    this.sweepExpired();
    if (this.pendingUpgrades.size >= MAX_PENDING_SESSIONS) {
      const oldest = this.pendingUpgrades.keys().next();
      if (!oldest.done) this.pendingUpgrades.delete(oldest.value);
    }
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const streamSid = `MZ${randomBytes(16).toString('hex')}`;
    const credential = randomBytes(CREDENTIAL_BYTES).toString('base64url');
    this.pendingUpgrades.set(sha256(credential).toString('hex'), { callSid, expiresAtMs: this.now() + BROWSER_SESSION_TTL_MS });
    const agent = this.deps.agent.agent.name;
    const streamToken = this.deps.tokens.issue({ callSid, from: undefined, to: undefined, direction: BROWSER_PHONE_DIRECTION, agent });
    // The stream's `start` (and so the call's first event) follows the upgrade within START_TIMEOUT_MS.
    this.events.track(callSid, BROWSER_SESSION_TTL_MS + 10_000);
    this.deps.log.info({ callSid }, 'browser phone session issued');
    const session: BrowserSession = {
      callSid,
      streamSid,
      accountSid: BROWSER_PHONE_ACCOUNT_SID,
      customParameters: { [STREAM_TOKEN_PARAMETER]: streamToken },
      mediaPath: `${MEDIA_STREAM_PATH}/${this.deps.instanceId}?${BROWSER_UPGRADE_PARAMETER}=${credential}`,
      eventsPath: `${BROWSER_PHONE_PATH}/events/${this.deps.instanceId}/${callSid}`,
      agent,
      model: this.deps.model,
      expiresInMs: BROWSER_SESSION_TTL_MS,
    };
    res.status(201).set('Cache-Control', 'no-store').json(session);
  }

  private streamEvents(req: Request, res: Response): void {
    const callSid = String(req.params.callSid ?? '');
    if (!CALL_SID_PATTERN.test(callSid)) {
      res.status(404).json({ error: 'No such browser call.' });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.write(': events of this call follow\n\n');
    this.openStreams.add(res);
    let heartbeat: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    const finish = (): void => {
      clearInterval(heartbeat);
      this.openStreams.delete(res);
      unsubscribe?.();
      if (!res.writableEnded) res.end();
    };
    let ended = false;
    unsubscribe = this.events.subscribe(
      callSid,
      (event) => res.write(`data: ${JSON.stringify(event)}\n\n`),
      () => {
        ended = true;
        finish();
      },
    );
    if (ended) return;
    if (unsubscribe === undefined) {
      res.write(`data: ${JSON.stringify({ type: 'unknownCall' })}\n\n`);
      finish();
      return;
    }
    heartbeat = setInterval(() => res.write(': ping\n\n'), EVENTS_HEARTBEAT_MS);
    heartbeat.unref();
    req.on('close', finish);
  }

  private sweepExpired(): void {
    const now = this.now();
    for (const [key, pending] of this.pendingUpgrades) {
      if (pending.expiresAtMs > now) break; // insertion order = expiry order
      this.pendingUpgrades.delete(key);
    }
  }
}

/** The page and its scripts: no framing, no third-party anything; the key in the fragment is never a Referer. */
function setPageHeaders(res: Response): void {
  res.set({
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  });
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
