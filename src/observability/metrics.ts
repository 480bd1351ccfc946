import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRICS_PATH = '/metrics';
/** METRICS_API_KEY must be at least this long (like OUTBOUND_API_KEY: a random secret, not a password). */
export const MIN_METRICS_API_KEY_LENGTH = 32;

/**
 * The fleet's Prometheus metrics, on a registry of their own (never prom-client's global one), so several apps can
 * run in one process (tests) without sharing or colliding. One `AppMetrics` per app.
 */
export interface AppMetrics {
  registry: Registry;
  /** Calls with a media stream on this instance right now: the autoscaling signal (calls per pod). */
  activeCalls: Gauge;
  /** Calls whose stream started here, by direction (inbound, outbound, browser). */
  callsStarted: Counter<'direction'>;
  /** Calls that ended here, by end reason (domain/end-reasons.ts: caller-hung-up, agent-hung-up, max-duration, …). */
  callsEnded: Counter<'reason'>;
  /** Streams that reached the instance that answered the webhook (hit) or another one (miss). */
  streamAffinity: Counter<'result'>;
  /** Streams that continued a call after its earlier stream was lost (`<Connect action>` reconnects). */
  failovers: Counter;
  /** Time from opening a Gemini Live session to its setup being complete. */
  geminiSessionSetupSeconds: Histogram;
  /** Time from the stream's `start` event to the first agent audio sent to the caller. */
  streamStartToFirstAudioSeconds: Histogram;
  /** Every Redis error: connection attempts that failed and commands that failed or timed out. */
  redisErrors: Counter;
  /** Sessions opened at the webhook that no stream took before their timeout (paid for, unused). */
  preOpenedSessionsExpired: Counter;
  /** Text exposition for a scrape. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  /** Labels on every series, e.g. `{ instance_id: 'agent-1' }` where the scraper does not add one. */
  defaultLabels?: Record<string, string>;
  /** Process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean;
}

const PREFIX = 'phone_agent_';

export function createMetrics(options: MetricsOptions = {}): AppMetrics {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    activeCalls: new Gauge({ name: `${PREFIX}active_calls`, help: 'Calls with a media stream on this instance', registers }),
    callsStarted: new Counter({ name: `${PREFIX}calls_started_total`, help: 'Calls whose media stream started on this instance', labelNames: ['direction'], registers }),
    callsEnded: new Counter({ name: `${PREFIX}calls_ended_total`, help: 'Calls that ended on this instance, by end reason', labelNames: ['reason'], registers }),
    streamAffinity: new Counter({
      name: `${PREFIX}stream_affinity_total`,
      help: 'Media streams that reached the instance that answered their webhook (hit) or another one (miss)',
      labelNames: ['result'],
      registers,
    }),
    failovers: new Counter({ name: `${PREFIX}failovers_total`, help: 'Streams that continued a call after its earlier stream was lost', registers }),
    geminiSessionSetupSeconds: new Histogram({
      name: `${PREFIX}gemini_session_setup_seconds`,
      help: 'Time from opening a Gemini Live session to setup complete',
      buckets: [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers,
    }),
    streamStartToFirstAudioSeconds: new Histogram({
      name: `${PREFIX}stream_start_to_first_audio_seconds`,
      help: "Time from the media stream's start event to the first agent audio sent to the caller",
      buckets: [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5],
      registers,
    }),
    redisErrors: new Counter({ name: `${PREFIX}redis_errors_total`, help: 'Redis errors: failed connection attempts and failed or timed-out commands', registers }),
    preOpenedSessionsExpired: new Counter({
      name: `${PREFIX}preopened_sessions_expired_total`,
      help: 'Gemini sessions opened at the webhook and closed unused because no stream came',
      registers,
    }),
    render: () => registry.metrics(),
  };
}

/**
 * `GET /metrics`, for Prometheus, behind `Authorization: Bearer <METRICS_API_KEY>`; mount it only when the key is
 * set, so without one the route does not exist.
 *
 * A bearer key on the main port rather than a separate port: the service keeps one listener, one readiness
 * story and one port in every manifest; the metrics are safe on a port that the public (Twilio-facing) load
 * balancer reaches, which a second unauthenticated port is only as long as every route, tunnel and
 * `docker run -p` keeps it private. Prometheus sends the key from a Kubernetes Secret (`authorization.credentials`
 * in a ServiceMonitor / scrape config). The key is compared in constant time (digests of equal length).
 */
export function metricsHandler(metrics: Pick<AppMetrics, 'registry'>, apiKey: string): RequestHandler {
  const expected = sha256(apiKey);
  return (req, res, next) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.header('authorization') ?? '');
    if (match === null || !timingSafeEqual(sha256(match[1] as string), expected)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').type('text/plain').send('A valid key is required: Authorization: Bearer <METRICS_API_KEY>');
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.status(200).set('Cache-Control', 'no-store').type(metrics.registry.contentType).send(text);
      },
      (error: unknown) => next(error),
    );
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
