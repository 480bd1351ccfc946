import { hostname } from 'node:os';
import { ACCOUNT_SID_PATTERN } from '../domain/identifiers.js';
import { DEFAULT_LIVE_MODEL } from '../model/gemini/live-models.js';
import { MIN_METRICS_API_KEY_LENGTH } from '../observability/metrics.js';
import type { TurnDetection } from '../model/realtime-model.js';
import type { LogLevel, PhoneAgentSettings } from './phone-agent-settings.js';
import { credential, e164, flag, httpUrl, integer, oneOf, publicOrigin, secret, text, type Rule } from './rules.js';

/**
 * Every setting, once: its option path in `PhoneAgentSettings`, its environment variable, what its value must be,
 * and its default. The environment reader, the validation and the configuration doc's test all read this table,
 * and the compiler checks it has exactly one entry for each option.
 */

/** The option paths of the settings: `port`, `limits.maxConcurrentCalls`, `gemini.vertexAI.project`, … */
export type SettingPath = Paths<PhoneAgentSettings>;

export interface SettingSpec<T> {
  /** The environment variable (the first, where the SDK reads two). */
  readonly env: string;
  readonly rule: Rule<T>;
  /** Used when neither code nor the environment sets it; a function is asked at start-up. */
  readonly default?: T | (() => T);
}

export const DEFAULT_MODEL = DEFAULT_LIVE_MODEL;
export const DEFAULT_TOOL_TIMEOUT_MS = 5_000;
const TRANSFER_MODES = ['cold', 'warm'] as const;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const TURN_DETECTIONS: readonly TurnDetection[] = ['model', 'local'];
/** INSTANCE_ID: one URL path segment, safe in HAProxy rules and Kubernetes names. */
const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Google Cloud project ids: 6–30 of a-z, 0-9, '-', starting with a letter; legacy ones may be domain-scoped. */
const PROJECT_PATTERN = /^(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Regions (`us-central1`, `europe-west4`), multi-regions (`us`, `eu`) and `global`. */
const LOCATION_PATTERN = /^[a-z]+(?:-[a-z]+[0-9]*)*$/;
/** Keys that guard a paid action or personal data: long enough that guessing is hopeless, and header-safe. */
const MIN_API_KEY_LENGTH = 24;
/** BROWSER_PHONE_KEY travels in a URL fragment and a header. */
const URL_SAFE = /^[A-Za-z0-9._~-]+$/;

export const SETTINGS = {
  port: { env: 'PORT', rule: integer(0, 65535), default: 8080 },
  host: { env: 'HOST', rule: text(), default: '0.0.0.0' },
  publicUrl: { env: 'PUBLIC_URL', rule: publicOrigin() },
  production: { env: 'NODE_ENV', rule: flag(), default: false },
  turnDetection: { env: 'TURN_DETECTION', rule: oneOf(TURN_DETECTIONS), default: 'model' },
  'gemini.apiKey': { env: 'GEMINI_API_KEY', rule: credential() },
  'gemini.vertexAI.project': { env: 'GOOGLE_CLOUD_PROJECT', rule: text(PROJECT_PATTERN, 'must be a project id: 6-30 lowercase letters, digits or hyphens, starting with a letter') },
  'gemini.vertexAI.location': { env: 'GOOGLE_CLOUD_LOCATION', rule: text(LOCATION_PATTERN, 'must be a region such as us-central1, europe-west4 or global') },
  'gemini.model': { env: 'GEMINI_MODEL', rule: text(), default: DEFAULT_MODEL },
  'gemini.apiVersion': { env: 'GEMINI_API_VERSION', rule: text(/^v\w+$/, 'must be an API version such as v1beta') },
  'gemini.setupTimeoutMs': { env: 'GEMINI_SETUP_TIMEOUT_MS', rule: integer(100, 120_000), default: 10_000 },
  'gemini.baseUrl': { env: 'GOOGLE_GEMINI_BASE_URL', rule: httpUrl() },
  'twilio.accountSid': { env: 'TWILIO_ACCOUNT_SID', rule: text(ACCOUNT_SID_PATTERN, 'must be AC followed by 32 hex digits') },
  'twilio.authToken': { env: 'TWILIO_AUTH_TOKEN', rule: credential() },
  'twilio.phoneNumber': { env: 'TWILIO_PHONE_NUMBER', rule: e164() },
  'twilio.apiBaseUrl': { env: 'TWILIO_API_BASE_URL', rule: httpUrl() },
  'limits.maxConcurrentCalls': { env: 'MAX_CONCURRENT_CALLS', rule: integer(1, 100_000), default: 100 },
  'limits.drainTimeoutMs': { env: 'DRAIN_TIMEOUT_MS', rule: integer(0, 86_400_000), default: 600_000 },
  'limits.stallTimeoutMs': { env: 'STALL_TIMEOUT_MS', rule: integer(500, 120_000), default: 6_000 },
  'limits.silenceTimeoutMs': { env: 'SILENCE_TIMEOUT_MS', rule: integer(1_000, 3_600_000), default: 20_000 },
  'limits.maxCallDurationMs': { env: 'MAX_CALL_DURATION_MS', rule: integer(1_000, 86_400_000), default: 3_600_000 },
  'connections.headersTimeoutMs': { env: 'HTTP_HEADERS_TIMEOUT_MS', rule: integer(100, 300_000), default: 10_000 },
  'connections.requestTimeoutMs': { env: 'HTTP_REQUEST_TIMEOUT_MS', rule: integer(100, 3_600_000), default: 30_000 },
  // Their defaults follow limits.maxConcurrentCalls (resolve-config.ts): every call holds one long connection.
  'connections.maxConnections': { env: 'MAX_CONNECTIONS', rule: integer(1, 1_000_000) },
  'connections.maxConnectionsPerSource': { env: 'MAX_CONNECTIONS_PER_SOURCE', rule: integer(1, 1_000_000) },
  'stores.redisUrl': { env: 'REDIS_URL', rule: { ...text(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL, e.g. redis://redis:6379'), secret: true } },
  'stores.dataDir': { env: 'DATA_DIR', rule: text(), default: './data' },
  'stores.databaseUrl': { env: 'DATABASE_URL', rule: { ...text(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL, e.g. postgres://user:password@db:5432/phone_agent'), secret: true } },
  'history.enabled': { env: 'HISTORY', rule: flag(), default: true },
  'history.retentionDays': { env: 'HISTORY_RETENTION_DAYS', rule: integer(0, 36_500, 'a whole number of days (0 keeps every call)'), default: 90 },
  'history.phoneNumbers': { env: 'HISTORY_PHONE_NUMBERS', rule: oneOf(['masked', 'full'] as const), default: 'masked' },
  'history.apiKey': { env: 'ADMIN_API_KEY', rule: secret(MIN_API_KEY_LENGTH, URL_SAFE, "of A-Z, a-z, 0-9, '.', '_', '~' or '-'") },
  'history.webhookUrl': { env: 'CALL_ENDED_WEBHOOK_URL', rule: httpUrl() },
  'costs.priceTableFile': { env: 'PRICE_TABLE_FILE', rule: text() },
  'tracing.otlpEndpoint': { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', rule: httpUrl() },
  'tracing.otlpTracesEndpoint': { env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', rule: httpUrl() },
  'fleet.instanceId': {
    env: 'INSTANCE_ID',
    rule: text(INSTANCE_ID_PATTERN, "must be 1-63 letters, digits, '.', '_' or '-': it is the last segment of this instance's stream URL"),
    default: () => hostname(),
  },
  'recording.enabled': { env: 'RECORD_CALLS', rule: flag(), default: false },
  'recording.retentionDays': { env: 'RECORDINGS_RETENTION_DAYS', rule: integer(1, 36_500, 'a whole number of days') },
  'recording.twilio': { env: 'TWILIO_RECORDING', rule: flag(), default: false },
  'logging.level': { env: 'LOG_LEVEL', rule: oneOf(LOG_LEVELS), default: 'info' },
  'logging.transcripts': { env: 'LOG_TRANSCRIPTS', rule: flag(), default: false },
  'browserPhone.enabled': { env: 'BROWSER_PHONE', rule: flag() },
  'browserPhone.key': { env: 'BROWSER_PHONE_KEY', rule: secret(MIN_API_KEY_LENGTH, URL_SAFE, "of A-Z, a-z, 0-9, '.', '_', '~' or '-'") },
  'metrics.apiKey': { env: 'METRICS_API_KEY', rule: secret(MIN_METRICS_API_KEY_LENGTH) },
  'tools.timeoutMs': { env: 'TOOL_TIMEOUT_MS', rule: integer(100, 60_000), default: DEFAULT_TOOL_TIMEOUT_MS },
  'tools.webhookSecret': { env: 'TOOL_WEBHOOK_SECRET', rule: secret(MIN_API_KEY_LENGTH) },
  'tools.transferNumber': { env: 'TRANSFER_NUMBER', rule: e164() },
  'tools.transferMode': { env: 'TRANSFER_MODE', rule: oneOf(TRANSFER_MODES), default: 'cold' },
  'outbound.apiKey': { env: 'OUTBOUND_API_KEY', rule: secret(MIN_API_KEY_LENGTH) },
  'outbound.callsPerMinute': { env: 'OUTBOUND_CALLS_PER_MINUTE', rule: integer(1, 600), default: 10 },
  'outbound.machineDetection': { env: 'OUTBOUND_MACHINE_DETECTION', rule: flag(), default: true },
} as const satisfies { [P in SettingPath]: SettingSpec<unknown> };

/**
 * How a setting is named to a person, for both ways in: `MAX_CONCURRENT_CALLS (limits.maxConcurrentCalls)`;
 * `variable` where the value was read from another variable of the same setting (GOOGLE_API_KEY).
 */
export function settingName(path: SettingPath, variable: string = SETTINGS[path].env): string {
  return `${variable} (${path})`;
}

export const SETTING_PATHS = Object.keys(SETTINGS) as SettingPath[];

/** The value a checked setting has: its rule's type, or undefined when it has no default. */
export type SettingValue<P extends SettingPath> = (typeof SETTINGS)[P] extends { rule: Rule<infer T>; default: unknown } ? T : (typeof SETTINGS)[P] extends { rule: Rule<infer T> } ? T | undefined : never;

type Leaf = string | number | boolean | URL;
type Paths<T> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends Leaf ? K : `${K}.${Paths<NonNullable<T[K]>>}`;
}[keyof T & string];
