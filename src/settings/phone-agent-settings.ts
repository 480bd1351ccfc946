import type { TurnDetection } from '../model/realtime-model.js';
import type { LogLevel } from '../observability/logger.js';

export type { LogLevel } from '../observability/logger.js';

/**
 * The service's settings, as `startPhoneAgent({ agents, ...settings })` takes them. Every one is optional, and
 * every one has an environment variable (named on each field) that the command line and containers use: the
 * environment fills what code leaves unset. docs/configuration.md lists them all with their defaults.
 */
export interface PhoneAgentSettings {
  /** PORT: where to listen; 0 takes any free port. Default 8080. */
  port?: number;
  /** HOST: the address to listen on. Default `0.0.0.0` (every interface). */
  host?: string;
  /**
   * PUBLIC_URL: the public https origin Twilio reaches, e.g. `https://abc123.ngrok.app` (no path): Twilio signs its
   * requests over it and streams to its wss:// twin. Needed, with the Twilio account, for phone calls.
   */
  publicUrl?: string | URL;
  /**
   * NODE_ENV=production: real callers. Then a Gemini credential is required (no local mode), and the browser phone
   * is off unless turned on.
   */
  production?: boolean;
  /**
   * TURN_DETECTION: who detects the caller's turns for agents that do not say (their `turnDetection`): the model's
   * own voice detection (`model`), or this service (`local`, docs/turn-taking.md). Default `model`.
   */
  turnDetection?: TurnDetection;
  gemini?: GeminiSettings;
  twilio?: TwilioSettings;
  limits?: CallLimitSettings;
  connections?: ConnectionSettings;
  stores?: StoreSettings;
  history?: HistorySettings;
  costs?: CostSettings;
  tracing?: TracingSettings;
  fleet?: FleetSettings;
  recording?: RecordingSettings;
  logging?: LoggingSettings;
  browserPhone?: BrowserPhoneSettings;
  metrics?: MetricsSettings;
  tools?: ToolSettings;
  outbound?: OutboundSettings;
}

/** How Gemini is reached: an API key (Gemini Developer API) or Vertex AI. Neither, outside production: local mode. */
export interface GeminiSettings {
  /** GEMINI_API_KEY (or GOOGLE_API_KEY): the Gemini Developer API. */
  apiKey?: string;
  /**
   * GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION: Gemini through Vertex AI,
   * signed in with Application Default Credentials (docs/vertex-ai.md). Then `model` is required.
   */
  vertexAI?: { project: string; location: string };
  /** GEMINI_MODEL: the Live model for agents that name none. Default `gemini-3.8-live`. */
  model?: string;
  /**
   * GEMINI_API_VERSION: one API version for every agent. Default: per agent, the version its model features need
   * (docs/models.md), else the SDK's; a feature that needs another version than this one is refused at start-up.
   */
  apiVersion?: string;
  /** GEMINI_SETUP_TIMEOUT_MS: a session not set up by then ends the call. Default 10000. */
  setupTimeoutMs?: number;
  /** GOOGLE_GEMINI_BASE_URL (GOOGLE_VERTEX_BASE_URL with Vertex AI): another endpoint, e.g. a proxy. */
  baseUrl?: string;
}

/** The Twilio account. PUBLIC_URL, the account SID and the auth token together switch phone calls on. */
export interface TwilioSettings {
  /** TWILIO_ACCOUNT_SID: `AC…` of the account that owns the number. */
  accountSid?: string;
  /** TWILIO_AUTH_TOKEN: verifies Twilio's signature on every webhook and media stream. */
  authToken?: string;
  /** TWILIO_PHONE_NUMBER: your Twilio number (E.164); outbound calls come from it. */
  phoneNumber?: string;
  /** TWILIO_API_BASE_URL: REST requests go here instead of https://api.twilio.com (a proxy, a test fake). */
  apiBaseUrl?: string;
}

/** Bounds on calls: how many at once, how long, and when a quiet or stuck call gets help. */
export interface CallLimitSettings {
  /** MAX_CONCURRENT_CALLS: calls beyond it hear a polite busy message. Default 100. */
  maxConcurrentCalls?: number;
  /** DRAIN_TIMEOUT_MS: on SIGTERM, calls in progress may run this long before they are ended. Default 600000. */
  drainTimeoutMs?: number;
  /** STALL_TIMEOUT_MS: no agent audio this long after the caller spoke counts as a stall. Default 6000. */
  stallTimeoutMs?: number;
  /** SILENCE_TIMEOUT_MS: how long the caller may stay silent before the agent checks in. Default 20000. */
  silenceTimeoutMs?: number;
  /** MAX_CALL_DURATION_MS: at this length the agent says goodbye. Default 3600000. */
  maxCallDurationMs?: number;
}

/**
 * What the HTTP server accepts from its clients: safe defaults for a service exposed directly (docs/deployment.md,
 * "Connection limits"). A media stream holds one connection for its call, a browser call two.
 */
export interface ConnectionSettings {
  /** HTTP_HEADERS_TIMEOUT_MS: a request's headers must arrive within this, else 408. Default 10000. */
  headersTimeoutMs?: number;
  /** HTTP_REQUEST_TIMEOUT_MS: the whole request, body included; at least `headersTimeoutMs`. Default 30000. */
  requestTimeoutMs?: number;
  /** MAX_CONNECTIONS: open connections at once, media streams included. Default 2 × maxConcurrentCalls + 100. */
  maxConnections?: number;
  /** MAX_CONNECTIONS_PER_SOURCE: open connections from one address (behind a proxy, the proxy's). Default maxConcurrentCalls + 20. */
  maxConnectionsPerSource?: number;
}

/** Where the service keeps what outlives a call. */
export interface StoreSettings {
  /** REDIS_URL: the fleet's shared call state; without it this process keeps it (exactly one instance). */
  redisUrl?: string;
  /** DATA_DIR: where the service keeps its files (recordings, the call history's SQLite). Default `./data`. */
  dataDir?: string;
  /** DATABASE_URL: Postgres (`postgres://…`) for the call history, shared by a fleet. Default: SQLite in DATA_DIR. */
  databaseUrl?: string;
}

/** Every call's record: the history, its API and page, and the post-call webhook (docs/observability.md). */
export interface HistorySettings {
  /** HISTORY: keep every call's record. Default on. */
  enabled?: boolean;
  /** HISTORY_RETENTION_DAYS: calls (and their recordings) older than this are deleted; 0 keeps them. Default 90. */
  retentionDays?: number;
  /** HISTORY_PHONE_NUMBERS: `masked` like the logs (default), or `full`. */
  phoneNumbers?: 'masked' | 'full';
  /** ADMIN_API_KEY: the bearer key of `/api/calls` and the page `/calls`; without it they do not exist. */
  apiKey?: string;
  /** CALL_ENDED_WEBHOOK_URL: each call's record is POSTed there after the call, signed with TOOL_WEBHOOK_SECRET. */
  webhookUrl?: string;
}

export interface CostSettings {
  /** PRICE_TABLE_FILE: a JSON file of the model and Twilio prices that differ from the dated defaults. */
  priceTableFile?: string;
}

/** OpenTelemetry traces; the SDK reads the other OTEL_* variables itself. Off without an endpoint. */
export interface TracingSettings {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the OTLP/HTTP receiver; traces go to its `/v1/traces`. */
  otlpEndpoint?: string;
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the traces URL itself, over `otlpEndpoint`. */
  otlpTracesEndpoint?: string;
}

export interface FleetSettings {
  /** INSTANCE_ID: this instance's name in its stream URL (`/media/<id>`) and on its metrics. Default: the host name. */
  instanceId?: string;
}

export interface RecordingSettings {
  /** RECORD_CALLS: each call's stereo WAV and event log under DATA_DIR/recordings. Default off. */
  enabled?: boolean;
  /** RECORDINGS_RETENTION_DAYS: recordings older than this are deleted. Default: kept. */
  retentionDays?: number;
  /**
   * TWILIO_RECORDING: Twilio records every phone call too, in two channels (caller and agent apart); its URL goes into
   * the call summary (docs/outbound.md). Default off.
   */
  twilio?: boolean;
}

export interface LoggingSettings {
  /** LOG_LEVEL. Default `info`. */
  level?: LogLevel;
  /** LOG_TRANSCRIPTS: what callers and agents say goes into the log (personal data). Default off. */
  transcripts?: boolean;
}

export interface BrowserPhoneSettings {
  /** BROWSER_PHONE: the browser phone at `/phone`. Default on, off in production. */
  enabled?: boolean;
  /**
   * BROWSER_PHONE_KEY: the page's access key (24+ of `A-Za-z0-9._~-`). Default: random at each start, printed in the
   * page's URL; required in production, where output is collected and kept, and never printed.
   */
  key?: string;
}

export interface MetricsSettings {
  /** METRICS_API_KEY: `GET /metrics` wants it as a bearer key; without it the route does not exist. */
  apiKey?: string;
}

export interface ToolSettings {
  /** TOOL_TIMEOUT_MS: how long a tool may run before the model is told it failed. Default 5000. */
  timeoutMs?: number;
  /** TOOL_WEBHOOK_SECRET: the key HTTP tool requests are signed with; HTTP tools need it. */
  webhookSecret?: string;
  /** TRANSFER_NUMBER: where `transfer_call` sends callers for agents without a number of their own (E.164). */
  transferNumber?: string;
  /**
   * TRANSFER_MODE: how agents that name none transfer. `cold`: put through at once. `warm`: the person called first
   * hears the model's summary and takes the call with a key; if nobody does, the caller comes back to the agent.
   * Default `cold`.
   */
  transferMode?: 'cold' | 'warm';
}

export interface OutboundSettings {
  /** OUTBOUND_API_KEY: the bearer key of `POST /calls`; without it the route does not exist. */
  apiKey?: string;
  /** OUTBOUND_CALLS_PER_MINUTE: placements allowed in any rolling minute. Default 10. */
  callsPerMinute?: number;
  /**
   * OUTBOUND_MACHINE_DETECTION: calls are placed with Twilio's asynchronous answering machine detection, one of the
   * signals of who answered (docs/outbound.md); Twilio charges for it per call. Default on.
   */
  machineDetection?: boolean;
}
