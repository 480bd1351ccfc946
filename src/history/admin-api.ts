import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { bearerKeyCheck } from '../http/bearer-key.js';
import { SHARED_PAGE_SCRIPTS_DIR, SHARED_PAGE_SCRIPTS_PATH } from '../http/shared-page-scripts.js';
import { END_REASONS } from '../domain/end-reasons.js';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';
import type { CallRecord } from './call-record.js';
import { InvalidCursorError, MAX_PAGE_SIZE, type CallFilter, type HistoryStore } from './history-store.js';
import type { LiveCalls } from './live-calls.js';
import { MAX_WAVEFORM_POINTS, waveformOfFile } from './waveform.js';

export const CALLS_API_PATH = '/api/calls';
export const INSPECTOR_PATH = '/calls';
const INSPECTOR_STATIC_DIR = fileURLToPath(new URL('../../public/calls', import.meta.url));
const CALL_SID_PATTERN = /^CA[0-9a-f]{32}$/;
const DEFAULT_PAGE_SIZE = 50;
const LIVE_HEARTBEAT_MS = 15_000;
/** Live updates are sent at most this often: a busy instance's transcripts do not flood the page. */
const LIVE_UPDATE_INTERVAL_MS = 500;

export interface AdminApiOptions {
  /** ADMIN_API_KEY: every route wants `Authorization: Bearer <key>`; the page takes it from its URL fragment. */
  apiKey: string;
  store: HistoryStore;
  live: LiveCalls;
  /** DATA_DIR/recordings: a recorded call's WAV and waveform are served from there. */
  recordingsDir: string;
  log: Logger;
  staticDir?: string;
}

/**
 * The call history's API and the call inspector, mounted only when ADMIN_API_KEY is set (otherwise these paths do
 * not exist):
 * - `GET /api/calls` (filters `from`, `to`, `agent`, `endReason`, `direction`, `channel`; `limit`, `cursor`),
 * - `GET /api/calls/live` (server-sent events: the calls in progress, as they change),
 * - `GET /api/calls/<CallSid>` (the call's record), `…/waveform?points=N` and `…/audio` when it was recorded,
 * - `GET /calls` and `GET /calls/<CallSid>`: the inspector page, which holds no secret and calls the API with the
 *   key from its URL fragment (never sent to the server in a URL).
 */
export function adminRoutes(options: AdminApiOptions): express.Router {
  const router = express.Router();
  const authenticated = adminKeyCheck(options.apiKey, options.log);
  const api = express.Router();
  api.use(authenticated);
  api.get('/', (req, res) => void listCalls(options, req, res));
  api.get('/live', (req, res) => followLiveCalls(options.live, req, res));
  api.get('/:callSid', (req, res) => void withRecord(options, req, res, (record) => res.json(record)));
  api.get('/:callSid/waveform', (req, res) => void withRecording(options, req, res, (wav) => sendWaveform(wav, req, res)));
  api.get('/:callSid/audio', (req, res) => void withRecording(options, req, res, (wav) => res.sendFile(wav, { headers: { 'Content-Type': 'audio/wav', 'Cache-Control': 'no-store' } })));
  router.use(CALLS_API_PATH, api);

  const staticDir = options.staticDir ?? INSPECTOR_STATIC_DIR;
  const page: RequestHandler = (_req, res) => {
    setPageHeaders(res);
    res.sendFile('index.html', { root: staticDir }, (error) => {
      if (error !== undefined && !res.headersSent) res.status(500).type('text/plain').send('The call inspector page is missing from this build.');
    });
  };
  router.get(INSPECTOR_PATH, page);
  const assets = { index: false, dotfiles: 'ignore', redirect: false, setHeaders: (res: Response) => setPageHeaders(res) } as const;
  router.use(`${INSPECTOR_PATH}/assets${SHARED_PAGE_SCRIPTS_PATH}`, express.static(SHARED_PAGE_SCRIPTS_DIR, assets));
  router.use(`${INSPECTOR_PATH}/assets`, express.static(staticDir, assets));
  router.get(`${INSPECTOR_PATH}/:callSid`, page);
  return router;
}

function adminKeyCheck(apiKey: string, log: Logger): RequestHandler {
  const matches = bearerKeyCheck(apiKey);
  return (req, res, next) => {
    if (!matches(req.header('authorization'))) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { what: 'calls api', hasAuthorization: req.header('authorization') !== undefined }, 'call history refused: missing or wrong ADMIN_API_KEY');
      res.status(401).set('WWW-Authenticate', 'Bearer realm="calls"').json({ error: 'A valid key is required: Authorization: Bearer <ADMIN_API_KEY>' });
      return;
    }
    next();
  };
}

async function listCalls(options: AdminApiOptions, req: Request, res: Response): Promise<void> {
  const parsed = parseListQuery(req.query as Record<string, unknown>);
  if ('error' in parsed) {
    res.status(400).json({ error: parsed.error });
    return;
  }
  try {
    res.set('Cache-Control', 'no-store').json(await options.store.list(parsed.filter, parsed.limit, parsed.cursor));
  } catch (error) {
    if (error instanceof InvalidCursorError) res.status(400).json({ error: 'cursor: not one this API returned' });
    else storeUnavailable(options.log, res, error);
  }
}

/** The list's query parameters, checked: every problem named at once. */
export function parseListQuery(query: Record<string, unknown>): { filter: CallFilter; limit: number; cursor: string | undefined } | { error: string } {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '' || value.length > 200) problems.push(`${name}: one value of at most 200 characters`);
    return typeof value === 'string' ? value : undefined;
  };
  const time = (name: string): string | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) problems.push(`${name}: an ISO 8601 time such as 2026-12-01T00:00:00Z`);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  };
  const oneOf = <T extends string>(name: string, values: readonly T[]): T | undefined => {
    const value = text(name);
    if (value !== undefined && !(values as readonly string[]).includes(value)) problems.push(`${name}: one of ${values.join(', ')}`);
    return value as T | undefined;
  };
  const limitText = text('limit');
  const limit = limitText === undefined ? DEFAULT_PAGE_SIZE : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) problems.push(`limit: a whole number from 1 to ${MAX_PAGE_SIZE}`);
  const filter: CallFilter = {};
  const set = <K extends keyof CallFilter>(key: K, value: CallFilter[K] | undefined): void => {
    if (value !== undefined) filter[key] = value;
  };
  set('from', time('from'));
  set('to', time('to'));
  set('agent', text('agent'));
  set('endReason', oneOf('endReason', END_REASONS));
  set('direction', oneOf('direction', ['inbound', 'outbound'] as const));
  set('channel', oneOf('channel', ['phone', 'browser'] as const));
  const cursor = text('cursor');
  for (const name of Object.keys(query)) {
    if (!['from', 'to', 'agent', 'endReason', 'direction', 'channel', 'limit', 'cursor'].includes(name)) problems.push(`${name}: not a filter (from, to, agent, endReason, direction, channel, limit, cursor)`);
  }
  return problems.length > 0 ? { error: problems.join('; ') } : { filter, limit, cursor };
}

async function withRecord(options: AdminApiOptions, req: Request, res: Response, use: (record: CallRecord) => void): Promise<void> {
  const callSid = String(req.params.callSid ?? '');
  try {
    const record = CALL_SID_PATTERN.test(callSid) ? await options.store.get(callSid) : undefined;
    if (record === undefined) res.status(404).json({ error: 'No such call in the history.' });
    else use(record);
  } catch (error) {
    storeUnavailable(options.log, res, error);
  }
}

async function withRecording(options: AdminApiOptions, req: Request, res: Response, use: (wavFile: string) => void | Promise<void>): Promise<void> {
  await withRecord(options, req, res, (record) => {
    if (record.recording === undefined) {
      res.status(404).json({ error: 'This call was not recorded (RECORD_CALLS=1 records calls).' });
      return;
    }
    res.set('Cache-Control', 'no-store');
    void Promise.resolve(use(join(options.recordingsDir, record.recording.wav))).catch((error: unknown) => {
      options.log.warn({ err: error, callSid: record.callSid }, 'could not read a call recording');
      if (!res.headersSent) res.status(404).json({ error: 'The recording is gone (deleted by RECORDINGS_RETENTION_DAYS, or not written).' });
    });
  });
}

async function sendWaveform(wavFile: string, req: Request, res: Response): Promise<void> {
  const points = Number(req.query.points ?? 1000);
  if (!Number.isInteger(points) || points < 1 || points > MAX_WAVEFORM_POINTS) {
    res.status(400).json({ error: `points: a whole number from 1 to ${MAX_WAVEFORM_POINTS}` });
    return;
  }
  res.json(await waveformOfFile(wavFile, points));
}

function followLiveCalls(live: LiveCalls, req: Request, res: Response): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
  let timer: NodeJS.Timeout | undefined;
  const send = (): void => {
    timer = undefined;
    res.write(`data: ${JSON.stringify({ type: 'live', calls: live.list() })}\n\n`);
  };
  send();
  const unsubscribe = live.onChange(() => {
    timer ??= setTimeout(send, LIVE_UPDATE_INTERVAL_MS);
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), LIVE_HEARTBEAT_MS);
  heartbeat.unref();
  req.on('close', () => {
    unsubscribe();
    clearTimeout(timer);
    clearInterval(heartbeat);
  });
}

function storeUnavailable(log: Logger, res: Response, error: unknown): void {
  log.warn({ err: error }, 'the call history store did not answer');
  if (!res.headersSent) res.status(503).set('Retry-After', '10').json({ error: 'The call history is unavailable right now.' });
}

/** The page and its scripts: no framing, nothing third-party; the key in the fragment is never a Referer. */
function setPageHeaders(res: Response): void {
  res.set({
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  });
}
