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
  /** Model tokens by agent and kind (input_text, input_audio, input_other, output_text, output_audio, thinking, tool_use_prompt). */
  modelTokens: Counter<'agent' | 'kind'>;
  /** What calls cost in US dollars, by agent and part (model, telephony), at the configured prices. */
  callCostUsd: Counter<'agent' | 'part'>;
  /** Calls whose model cost rests on estimated tokens (the model reported no usage). */
  estimatedCosts: Counter<'agent'>;
  /** From the end of the caller's speech to the reply's first audio played on the phone. */
  heardLatencySeconds: Histogram<'agent'>;
  /** The model's share of it: to the reply's first audio from the model. */
  modelLatencySeconds: Histogram<'agent'>;
  /** How long the agent kept talking after the caller started (to Twilio's clear). */
  bargeInClearSeconds: Histogram<'agent'>;
  /** Tool calls' durations by tool and outcome (ok, error). */
  toolDurationSeconds: Histogram<'tool' | 'outcome'>;
  /** Call records the history lost (its store down or too slow); the calls themselves were not affected. */
  historyRecordsLost: Counter;
  /** Post-call webhook deliveries given up. */
  callEndedWebhookFailures: Counter;
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
    ...callFigureMetrics(registers),
    render: () => registry.metrics(),
  };
}

const LATENCY_BUCKETS_SECONDS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10];

/** What calls cost, how long callers waited, how fast barge-ins cleared, how long tools took. */
function callFigureMetrics(registers: Registry[]): Pick<AppMetrics, 'modelTokens' | 'callCostUsd' | 'estimatedCosts' | 'heardLatencySeconds' | 'modelLatencySeconds' | 'bargeInClearSeconds' | 'toolDurationSeconds' | 'historyRecordsLost' | 'callEndedWebhookFailures'> {
  return {
    modelTokens: new Counter({ name: `${PREFIX}model_tokens_total`, help: 'Model tokens used by calls, by agent and kind', labelNames: ['agent', 'kind'], registers }),
    callCostUsd: new Counter({ name: `${PREFIX}call_cost_usd_total`, help: 'What calls cost in US dollars at the configured prices, by agent and part', labelNames: ['agent', 'part'], registers }),
    estimatedCosts: new Counter({ name: `${PREFIX}calls_cost_estimated_total`, help: 'Calls whose model cost was estimated from audio seconds (no usage reported)', labelNames: ['agent'], registers }),
    heardLatencySeconds: new Histogram({ name: `${PREFIX}heard_latency_seconds`, help: "From the end of the caller's speech to the reply's first audio played on the phone", labelNames: ['agent'], buckets: LATENCY_BUCKETS_SECONDS, registers }),
    modelLatencySeconds: new Histogram({ name: `${PREFIX}model_latency_seconds`, help: "From the end of the caller's speech to the reply's first audio from the model", labelNames: ['agent'], buckets: LATENCY_BUCKETS_SECONDS, registers }),
    bargeInClearSeconds: new Histogram({ name: `${PREFIX}barge_in_clear_seconds`, help: 'How long the agent kept talking after the caller started talking over it', labelNames: ['agent'], buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3], registers }),
    toolDurationSeconds: new Histogram({ name: `${PREFIX}tool_duration_seconds`, help: 'How long tool calls took, by tool and outcome', labelNames: ['tool', 'outcome'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30], registers }),
    historyRecordsLost: new Counter({ name: `${PREFIX}history_records_lost_total`, help: 'Call records the history could not write (the calls were not affected)', registers }),
    callEndedWebhookFailures: new Counter({ name: `${PREFIX}call_ended_webhook_failures_total`, help: 'Post-call webhook deliveries given up', registers }),
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
