import { hostname } from 'node:os';
import { join } from 'node:path';
import { ACCOUNT_SID_PATTERN, E164_HINT, E164_PATTERN } from './domain/identifiers.js';
import { MIN_METRICS_API_KEY_LENGTH } from './observability/metrics.js';
import { apiVersionProblem, readGeminiAuth, type GeminiAuth } from './model/gemini/gemini-auth.js';
import type { ConnectionLimits } from './http/connection-limits.js';

/** Everything the service needs, read once from the environment at start-up. */
export interface Config {
  port: number;
  host: string;
  /** Public https origin Twilio reaches (e.g. an ngrok URL). */
  publicUrl: URL;
  gemini: {
    apiKey: string;
    /** How Gemini is reached: an API key (Gemini Developer API) or Vertex AI with ADC; undefined in local mode. */
    auth: GeminiAuth | undefined;
    model: string;
    apiVersion: string | undefined;
    setupTimeoutMs: number;
  };
  twilio: {
    accountSid: string;
    authToken: string;
    /** TWILIO_API_BASE_URL: where REST requests go instead of https://api.twilio.com (proxy, tests). */
    apiBaseUrl: string | undefined;
    /** TWILIO_PHONE_NUMBER (E.164): the number outbound calls come from. */
    phoneNumber: string | undefined;
  };
  /** `POST /calls`: placing calls for an API client. Without an API key the endpoint does not exist. */
  outboundCalls: {
    apiKey: string | undefined;
    /** Placements allowed per rolling minute, so a leaked key or a runaway script cannot dial without bound. */
    perMinute: number;
  };
  tools: {
    /** Default time a tool may take before the model is told it failed. */
    timeoutMs: number;
    /** E.164 number transfer_call dials for agents without one of their own; no transfer_call without either. */
    transferNumber: string | undefined;
    /** TOOL_WEBHOOK_SECRET: the key HTTP tool requests are signed with; HTTP tools need it. */
    webhookSecret: string | undefined;
  };
  /** AGENT: the agent module or JSON file to run (main.ts loads it); undefined when unset. */
  agentPath: string | undefined;
  /** Running as one of a fleet (docs/deployment.md). */
  fleet: {
    /** REDIS_URL: the fleet's shared call state; undefined keeps it in this process (exactly one instance). */
    redisUrl: string | undefined;
    /** INSTANCE_ID (default: the host name): names this instance in stream URLs (`/media/<id>`) and logs. */
    instanceId: string;
  };
  /** METRICS_API_KEY: `GET /metrics` wants `Authorization: Bearer <key>`; without it the route does not exist. */
  metricsApiKey: string | undefined;
  /** DATA_DIR: where the service keeps its files (recordings). */
  dataDir: string;
  /** LOG_TRANSCRIPTS=1: what callers and agents say goes to the debug log (personal data: off by default). */
  logTranscripts: boolean;
  /** RECORD_CALLS=1: each call's stereo WAV and event log under `dir` (DATA_DIR/recordings). */
  /** RECORDINGS_RETENTION_DAYS: recordings older than this are deleted (at start and daily); undefined keeps them. */
  recording: { enabled: boolean; dir: string; retentionDays?: number | undefined };
  limits: CallLimits;
  /** What the HTTP server accepts from clients: timeouts and connection caps (docs/deployment.md). */
  connections: ConnectionLimits;
  logLevel: LogLevel;
  /**
   * Phone calls through Twilio need PUBLIC_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN. Without all three the
   * Twilio routes do not exist, `publicUrl` and `twilio` hold inert placeholders (an empty auth token verifies
   * nothing), and `missing` names what to set.
   */
  telephony: { enabled: true } | { enabled: false; missing: string[] };
  /**
   * No GEMINI_API_KEY outside production: calls talk to the local stand-in model (src/local-agent), which
   * echoes the caller and answers with canned replies. `gemini.apiKey` is then empty and unused.
   */
  localModel: boolean;
  /**
   * The browser phone (/phone): BROWSER_PHONE=1, or by default when NODE_ENV is not production. `accessKey`
   * (BROWSER_PHONE_KEY) authorises the page; undefined means a random key per start, printed in the URL (never in
   * production, which requires the key).
   */
  browserPhone: { enabled: boolean; accessKey: string | undefined };
}

/** Bounds on calls: how many at once, how long, and when a quiet or stuck call gets help. */
export interface CallLimits {
  maxConcurrentCalls: number;
  /** On SIGTERM, calls in progress may run this long before they are ended. */
  drainTimeoutMs: number;
  /** After the caller stops speaking, how long without agent audio counts as a stall. */
  stallTimeoutMs: number;
  /** How long the caller may stay silent before the agent checks in (then says goodbye). */
  silenceTimeoutMs: number;
  maxCallDurationMs: number;
}

export type { LogLevel } from './observability/logger.js';
import type { LogLevel } from './observability/logger.js';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_MODEL = 'gemini-3.8-live';
export const DEFAULT_TOOL_TIMEOUT_MS = 5_000;
/** INSTANCE_ID: one URL path segment, safe in HAProxy rules and Kubernetes names. */
const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** TOOL_WEBHOOK_SECRET: long enough that an HMAC key cannot be guessed. */
export const MIN_TOOL_WEBHOOK_SECRET_LENGTH = 24;

/** The Twilio settings that switch phone calls on; without them only the browser phone runs. */
export const TELEPHONY_VARIABLES = ['PUBLIC_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'] as const;
/** Stands in for PUBLIC_URL when Twilio is off: `.invalid` never resolves, so nothing can reach it by mistake. */
const TELEPHONY_DISABLED_URL = 'https://twilio-disabled.invalid';
/** BROWSER_PHONE_KEY: long enough that guessing is hopeless, and safe in a URL fragment and a header. */
export const MIN_BROWSER_PHONE_KEY_LENGTH = 24;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the configuration. Collects every problem before failing, so one start-up
 * attempt tells the operator everything that is wrong.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  const port = parseInteger(get('PORT') ?? '8080', 0, 65535);
  if (port === undefined) problems.push(`PORT must be an integer from 0 to 65535 (got "${get('PORT')}")`);

  const production = get('NODE_ENV') === 'production';
  // Twilio is optional: absent settings switch phone calls off (main.ts says what to set); present ones must be valid.
  const telephonyMissing = TELEPHONY_VARIABLES.filter((name) => get(name) === undefined);
  const publicUrl = parsePublicUrl(get('PUBLIC_URL') ?? '', problems);

  const auth = readGeminiAuth(env, problems);
  const apiKey = auth?.kind === 'api-key' ? auth.apiKey : undefined;
  // Real callers must never reach the canned local agent because a deploy lost its key.
  if (auth === undefined && production) {
    problems.push('GEMINI_API_KEY (or GOOGLE_API_KEY) is required when NODE_ENV=production, or Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION; docs/vertex-ai.md); without either, outside production, the service runs in local mode');
  }
  if (auth !== undefined) {
    const versionProblem = apiVersionProblem(auth, get('GEMINI_API_VERSION'));
    if (versionProblem !== undefined) problems.push(versionProblem);
    if (auth.kind === 'vertex' && get('GEMINI_MODEL') === undefined) problems.push('GEMINI_MODEL is required with Vertex AI: the Live model as Vertex names it (docs/vertex-ai.md)');
  }

  const browserPhoneSetting = get('BROWSER_PHONE');
  if (browserPhoneSetting !== undefined && browserPhoneSetting !== '0' && browserPhoneSetting !== '1') {
    problems.push(`BROWSER_PHONE must be 0 or 1 (got "${browserPhoneSetting}")`);
  }
  // An invalid value is reported above; judged as unset here so it does not also cause "nothing to serve".
  const browserPhoneEnabled = browserPhoneSetting === '1' || (browserPhoneSetting !== '0' && !production);
  const browserPhoneKey = get('BROWSER_PHONE_KEY');
  if (browserPhoneKey !== undefined && !new RegExp(`^[A-Za-z0-9._~-]{${MIN_BROWSER_PHONE_KEY_LENGTH},}$`).test(browserPhoneKey)) {
    problems.push(`BROWSER_PHONE_KEY must be at least ${MIN_BROWSER_PHONE_KEY_LENGTH} characters of A-Z, a-z, 0-9, '.', '_', '~' or '-' (e.g. the output of: openssl rand -hex 32)`);
  }
  // A random key would have to be printed to be found, and production output is collected and kept: the operator sets it.
  if (production && browserPhoneEnabled && browserPhoneKey === undefined) {
    problems.push('BROWSER_PHONE_KEY is required when NODE_ENV=production and BROWSER_PHONE=1: the browser phone\'s access key, at least 24 characters (e.g. the output of: openssl rand -hex 32); open /phone#key=<that key>');
  }
  if (telephonyMissing.length > 0 && !browserPhoneEnabled) {
    problems.push(`Nothing to serve: set ${telephonyMissing.join(', ')} for Twilio phone calls, or BROWSER_PHONE=1 for the browser phone`);
  }

  for (const retired of ['GEMINI_VOICE', 'AGENT_INSTRUCTIONS', 'AGENT_INSTRUCTIONS_FILE']) {
    if (get(retired) !== undefined) problems.push(`${retired} is no longer read: the agent sets its voice and instructions (defineAgent, or a JSON agent file named by AGENT; see docs/agents.md)`);
  }
  const agentPath = get('AGENT');
  if (agentPath === undefined && production) problems.push('AGENT is required when NODE_ENV=production: the agent module (.ts, .js, .mjs) or JSON file to run');
  const toolWebhookSecret = get('TOOL_WEBHOOK_SECRET');
  if (toolWebhookSecret !== undefined && toolWebhookSecret.length < MIN_TOOL_WEBHOOK_SECRET_LENGTH) {
    problems.push(`TOOL_WEBHOOK_SECRET must be at least ${MIN_TOOL_WEBHOOK_SECRET_LENGTH} characters (e.g. the output of: openssl rand -hex 32)`);
  }
  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) problems.push('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://redis:6379');
  const instanceId = get('INSTANCE_ID') ?? hostname();
  if (!INSTANCE_ID_PATTERN.test(instanceId)) problems.push(`INSTANCE_ID must be 1-63 letters, digits, '.', '_' or '-' (got "${instanceId}"); it is the last segment of this instance's stream URL`);
  const metricsApiKey = get('METRICS_API_KEY');
  if (metricsApiKey !== undefined && (metricsApiKey.length < MIN_METRICS_API_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(metricsApiKey))) {
    problems.push(`METRICS_API_KEY must be at least ${MIN_METRICS_API_KEY_LENGTH} characters without spaces (e.g. the output of: openssl rand -hex 32)`);
  }
  const logTranscripts = get('LOG_TRANSCRIPTS') ?? '0';
  if (logTranscripts !== '0' && logTranscripts !== '1') problems.push(`LOG_TRANSCRIPTS must be 0 or 1 (got "${logTranscripts}")`);

  const setupTimeoutMs = parseInteger(get('GEMINI_SETUP_TIMEOUT_MS') ?? '10000', 100, 120_000);
  if (setupTimeoutMs === undefined) problems.push('GEMINI_SETUP_TIMEOUT_MS must be an integer from 100 to 120000');

  const baseUrl = get('GOOGLE_GEMINI_BASE_URL');
  if (baseUrl !== undefined && !isHttpUrl(baseUrl)) problems.push(`GOOGLE_GEMINI_BASE_URL must be an http(s) URL (got "${baseUrl}")`);

  const accountSid = get('TWILIO_ACCOUNT_SID') ?? '';
  if (accountSid !== '' && !ACCOUNT_SID_PATTERN.test(accountSid)) {
    problems.push('TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits');
  }
  const authToken = get('TWILIO_AUTH_TOKEN') ?? '';

  const twilioApiBaseUrl = get('TWILIO_API_BASE_URL');
  if (twilioApiBaseUrl !== undefined && !isHttpUrl(twilioApiBaseUrl)) problems.push(`TWILIO_API_BASE_URL must be an http(s) URL (got "${twilioApiBaseUrl}")`);

  const transferNumber = get('TRANSFER_NUMBER');
  if (transferNumber !== undefined && !E164_PATTERN.test(transferNumber)) problems.push(`TRANSFER_NUMBER must be ${E164_HINT}`);

  const phoneNumber = get('TWILIO_PHONE_NUMBER');
  if (phoneNumber !== undefined && !E164_PATTERN.test(phoneNumber)) problems.push(TWILIO_PHONE_NUMBER_FORMAT);
  const outboundApiKey = get('OUTBOUND_API_KEY');
  if (outboundApiKey !== undefined) {
    // It guards a paid action (dialling anyone): long enough that guessing is hopeless, and header-safe.
    if (outboundApiKey.length < MIN_OUTBOUND_API_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(outboundApiKey)) {
      problems.push(`OUTBOUND_API_KEY must be at least ${MIN_OUTBOUND_API_KEY_LENGTH} characters, without spaces (e.g. the output of: openssl rand -hex 32)`);
    }
    if (phoneNumber === undefined) problems.push('OUTBOUND_API_KEY needs TWILIO_PHONE_NUMBER: the number outbound calls are placed from');
    if (telephonyMissing.length > 0) problems.push(`OUTBOUND_API_KEY needs Twilio: set ${telephonyMissing.join(', ')}`);
  }
  const outboundCallsPerMinute = parseInteger(get('OUTBOUND_CALLS_PER_MINUTE') ?? '10', 1, 600);
  if (outboundCallsPerMinute === undefined) problems.push('OUTBOUND_CALLS_PER_MINUTE must be an integer from 1 to 600');

  const toolTimeoutMs = parseInteger(get('TOOL_TIMEOUT_MS') ?? String(DEFAULT_TOOL_TIMEOUT_MS), 100, 60_000);
  if (toolTimeoutMs === undefined) problems.push('TOOL_TIMEOUT_MS must be an integer from 100 to 60000');

  const dataDir = get('DATA_DIR') ?? './data';
  const recordCalls = get('RECORD_CALLS') ?? '0';
  if (recordCalls !== '0' && recordCalls !== '1') problems.push(`RECORD_CALLS must be 0 or 1 (got "${recordCalls}")`);

  const limit = (name: string, fallback: number, min: number, max: number): number => {
    const value = parseInteger(get(name) ?? String(fallback), min, max);
    if (value === undefined) problems.push(`${name} must be an integer from ${min} to ${max}`);
    return value ?? fallback;
  };
  const limits: CallLimits = {
    maxConcurrentCalls: limit('MAX_CONCURRENT_CALLS', 100, 1, 100_000),
    drainTimeoutMs: limit('DRAIN_TIMEOUT_MS', 600_000, 0, 86_400_000),
    stallTimeoutMs: limit('STALL_TIMEOUT_MS', 6_000, 500, 120_000),
    silenceTimeoutMs: limit('SILENCE_TIMEOUT_MS', 20_000, 1_000, 3_600_000),
    maxCallDurationMs: limit('MAX_CALL_DURATION_MS', 3_600_000, 1_000, 86_400_000),
  };
  // Safe when the service is exposed directly; every call holds one long connection (its stream), a browser call two.
  const connections: ConnectionLimits = {
    headersTimeoutMs: limit('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 300_000),
    requestTimeoutMs: limit('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    maxConnections: limit('MAX_CONNECTIONS', 2 * limits.maxConcurrentCalls + 100, 1, 1_000_000),
    maxConnectionsPerSource: limit('MAX_CONNECTIONS_PER_SOURCE', limits.maxConcurrentCalls + 20, 1, 1_000_000),
  };
  if (connections.requestTimeoutMs < connections.headersTimeoutMs) problems.push('HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS (the request includes its headers)');

  const logLevel = (get('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const retentionDays = get('RECORDINGS_RETENTION_DAYS') === undefined ? undefined : parseInteger(get('RECORDINGS_RETENTION_DAYS') as string, 1, 36_500);
  if (get('RECORDINGS_RETENTION_DAYS') !== undefined && retentionDays === undefined) problems.push('RECORDINGS_RETENTION_DAYS must be a whole number of days from 1 to 36500');

  if (problems.length > 0) throw new ConfigError(problems);
  const telephonyEnabled = telephonyMissing.length === 0;

  return {
    port: port ?? 8080,
    host: get('HOST') ?? '0.0.0.0',
    publicUrl: telephonyEnabled ? (publicUrl as URL) : new URL(TELEPHONY_DISABLED_URL),
    gemini: {
      apiKey: apiKey ?? '',
      auth,
      model: get('GEMINI_MODEL') ?? DEFAULT_MODEL,
      apiVersion: get('GEMINI_API_VERSION'),
      setupTimeoutMs: setupTimeoutMs ?? 10_000,
    },
    twilio: telephonyEnabled ? { accountSid, authToken, apiBaseUrl: twilioApiBaseUrl, phoneNumber } : { accountSid: '', authToken: '', apiBaseUrl: twilioApiBaseUrl, phoneNumber },
    outboundCalls: { apiKey: outboundApiKey, perMinute: outboundCallsPerMinute ?? 10 },
    tools: { timeoutMs: toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS, transferNumber, webhookSecret: toolWebhookSecret },
    agentPath,
    fleet: { redisUrl, instanceId },
    metricsApiKey,
    dataDir,
    logTranscripts: logTranscripts === '1',
    recording: { enabled: recordCalls === '1', dir: join(dataDir, 'recordings'), retentionDays },
    limits,
    connections,
    logLevel,
    telephony: telephonyEnabled ? { enabled: true } : { enabled: false, missing: telephonyMissing },
    localModel: auth === undefined,
    browserPhone: { enabled: browserPhoneEnabled, accessKey: browserPhoneKey },
  };
}

const TWILIO_PHONE_NUMBER_FORMAT = 'TWILIO_PHONE_NUMBER must be your Twilio number in E.164 format: + and country code, digits only, e.g. +14155550100';
export const MIN_OUTBOUND_API_KEY_LENGTH = 24;

/**
 * What the Twilio commands need (`npm run configure-number`, `npm run call`, `npm run dev -- --configure`):
 * the account, the number and PUBLIC_URL. Gemini settings are not required to set up telephony.
 */
export interface TwilioCommandConfig {
  publicUrl: URL;
  twilio: { accountSid: string; authToken: string; apiBaseUrl: string | undefined; phoneNumber: string };
}

/** Reads the Twilio commands' settings; like loadConfig, names every problem at once. */
export function loadTwilioCommandConfig(env: Env = process.env): TwilioCommandConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const required = (name: string, hint: string): string => {
    const value = get(name);
    if (value === undefined) problems.push(`${name} is required: ${hint}`);
    return value ?? '';
  };
  const publicUrl = parsePublicUrl(required('PUBLIC_URL', 'the public https URL Twilio reaches, e.g. https://abc123.ngrok.app'), problems);
  const accountSid = required('TWILIO_ACCOUNT_SID', 'your Twilio Account SID (AC followed by 32 hex digits)');
  if (accountSid !== '' && !ACCOUNT_SID_PATTERN.test(accountSid)) problems.push('TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits');
  const authToken = required('TWILIO_AUTH_TOKEN', 'your Twilio Auth Token (Console → Account info)');
  const apiBaseUrl = get('TWILIO_API_BASE_URL');
  if (apiBaseUrl !== undefined && !isHttpUrl(apiBaseUrl)) problems.push(`TWILIO_API_BASE_URL must be an http(s) URL (got "${apiBaseUrl}")`);
  const phoneNumber = required('TWILIO_PHONE_NUMBER', 'your Twilio number in E.164 format, e.g. +14155550100');
  if (phoneNumber !== '' && !E164_PATTERN.test(phoneNumber)) problems.push(TWILIO_PHONE_NUMBER_FORMAT);
  if (problems.length > 0) throw new ConfigError(problems);
  return { publicUrl: publicUrl as URL, twilio: { accountSid, authToken, apiBaseUrl, phoneNumber } };
}

function parseInteger(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function parsePublicUrl(text: string, problems: string[]): URL | undefined {
  if (text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`PUBLIC_URL is not a URL (got "${text}")`);
    return undefined;
  }
  // Twilio only opens media streams to wss://, and signs webhooks over the exact public URL.
  if (url.protocol !== 'https:') problems.push(`PUBLIC_URL must start with https:// (Twilio only streams to wss://); got "${text}"`);
  // The placeholders of .env.example and the docs (your-subdomain.ngrok.app, your-name.ngrok-free.app) reach nobody.
  if (/^your-/i.test(url.hostname)) problems.push(`PUBLIC_URL is still a placeholder ("${text}"): set your tunnel's or server's https origin, or leave it empty`);
  // Routes are served at the root, so the public URL is an origin: no path to guess a proxy's rewrite from.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    problems.push(`PUBLIC_URL must be an origin such as https://abc123.ngrok.app, without a path or query (got "${text}")`);
  }
  return url;
}

/** The public URL of a path, as Twilio requests (and signs) it. */
export function publicHttpsUrl(config: Pick<Config, 'publicUrl'>, path: string): string {
  return `${config.publicUrl.origin}${path}`;
}

/** The public wss:// URL of a path: what Twilio connects to and signs for a media stream. */
export function publicWssUrl(config: Pick<Config, 'publicUrl'>, path: string): string {
  return `wss://${config.publicUrl.host}${path}`;
}
