import type { ConnectionLimits } from '../http/connection-limits.js';
import type { PriceTable } from '../costs/prices.js';
import type { GeminiAuth } from '../model/gemini/gemini-auth.js';
import type { TurnDetection } from '../model/realtime-model.js';
import type { CallLimitSettings, LogLevel } from './phone-agent-settings.js';
import type { SettingPath } from './setting-table.js';

/**
 * The settings after validation, with every default applied: what the service's parts read. Same names as
 * PhoneAgentSettings, plus what follows from them (Twilio on or off, local mode, the recordings' directory).
 */
export interface Config {
  production: boolean;
  /** Who detects the caller's turns for agents that do not say. */
  turnDetection: TurnDetection;
  port: number;
  host: string;
  /** The public https origin Twilio reaches; an inert `.invalid` placeholder while Twilio is off. */
  publicUrl: URL;
  gemini: {
    /** An API key (Gemini Developer API) or Vertex AI; undefined in local mode. */
    auth: GeminiAuth | undefined;
    model: string;
    apiVersion: string | undefined;
    setupTimeoutMs: number;
    baseUrl: string | undefined;
  };
  /** No Gemini credential (outside production): calls talk to the built-in local agent. */
  localModel: boolean;
  /** Empty strings while Twilio is off: an empty auth token verifies nothing, and the Twilio routes do not exist. */
  twilio: { accountSid: string; authToken: string; phoneNumber: string | undefined; apiBaseUrl: string | undefined };
  /** Phone calls need PUBLIC_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN; `missing` names what to set. */
  telephony: { enabled: true } | { enabled: false; missing: SettingPath[] };
  limits: CallLimits;
  /** What the HTTP server accepts from clients: timeouts and connection caps. */
  connections: ConnectionLimits;
  stores: { redisUrl: string | undefined; dataDir: string; databaseUrl: string | undefined };
  /** `sqliteFile` is DATA_DIR/history.sqlite (without DATABASE_URL); `retentionDays` undefined keeps every call. */
  history: { enabled: boolean; sqliteFile: string; retentionDays: number | undefined; phoneNumbers: 'masked' | 'full'; apiKey: string | undefined; webhookUrl: URL | undefined };
  /** The default prices (src/costs/prices.ts) with PRICE_TABLE_FILE's over them. */
  prices: PriceTable;
  /** On with an OTLP endpoint: `tracesUrl` is where spans go. */
  tracing: { enabled: false } | { enabled: true; tracesUrl: string };
  fleet: { instanceId: string };
  /** `dir` is DATA_DIR/recordings. */
  recording: { enabled: boolean; dir: string; retentionDays: number | undefined; twilio: boolean };
  logging: { level: LogLevel; transcripts: boolean };
  /** `key` undefined: a random key per start, printed in the page's URL. */
  browserPhone: { enabled: boolean; key: string | undefined };
  metrics: { apiKey: string | undefined };
  tools: { timeoutMs: number; webhookSecret: string | undefined; transferNumber: string | undefined; transferMode: 'cold' | 'warm' };
  outbound: { apiKey: string | undefined; callsPerMinute: number; machineDetection: boolean };
}

/** Bounds on calls, every one set. */
export type CallLimits = Required<CallLimitSettings>;

/** The public URL of a path, as Twilio requests (and signs) it. */
export function publicHttpsUrl(config: Pick<Config, 'publicUrl'>, path: string): string {
  return `${config.publicUrl.origin}${path}`;
}

/** The public wss:// URL of a path: what Twilio connects to and signs for a media stream. */
export function publicWssUrl(config: Pick<Config, 'publicUrl'>, path: string): string {
  return `wss://${config.publicUrl.host}${path}`;
}
