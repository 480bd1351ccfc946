import { readFileSync } from 'node:fs';

/** Everything the service needs, read once from the environment at start-up. */
export interface Config {
  port: number;
  host: string;
  /** Public https origin Twilio reaches (e.g. an ngrok URL). */
  publicUrl: URL;
  gemini: {
    apiKey: string;
    model: string;
    apiVersion: string | undefined;
    voice: string;
    instructions: string;
    setupTimeoutMs: number;
  };
  twilio: {
    accountSid: string;
    authToken: string;
    /** TWILIO_API_BASE_URL: where REST requests go instead of https://api.twilio.com (proxy, tests). */
    apiBaseUrl: string | undefined;
  };
  tools: {
    /** Default time a tool may take before the model is told it failed. */
    timeoutMs: number;
    /** E.164 number transfer_call dials; no transfer_call without it. */
    transferNumber: string | undefined;
  };
  restaurant: {
    /** Where the bookings database lives (created and seeded on first start). */
    dataDir: string;
    timeZone: string;
  };
  limits: CallLimits;
  logLevel: LogLevel;
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

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_MODEL = 'gemini-3.8-live';
export const DEFAULT_TOOL_TIMEOUT_MS = 5_000;
export const DEFAULT_RESTAURANT_TIME_ZONE = 'America/Los_Angeles';
export const DEFAULT_VOICE = 'Kore';

/** Prebuilt voices of the native-audio Live models; an unknown name makes the service close the session. */
export const GEMINI_VOICES = [
  'Zephyr', 'Puck', 'Charon', 'Kore', 'Fenrir', 'Leda', 'Orus', 'Aoede', 'Callirrhoe', 'Autonoe',
  'Enceladus', 'Iapetus', 'Umbriel', 'Algieba', 'Despina', 'Erinome', 'Algenib', 'Rasalgethi',
  'Laomedeia', 'Achernar', 'Alnilam', 'Schedar', 'Gacrux', 'Pulcherrima', 'Achird', 'Zubenelgenubi',
  'Vindemiatrix', 'Sadachbia', 'Sadaltager', 'Sulafat',
] as const;

export const DEFAULT_INSTRUCTIONS = [
  'You are a friendly, efficient phone agent. You are speaking with a caller over a telephone line.',
  'Keep answers short and natural, one or two sentences at a time, and let the caller interrupt you.',
  'Never read out markup, lists or symbols; say numbers, dates and times the way people speak them.',
  'When the call starts, greet the caller briefly and ask how you can help.',
].join(' ');

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
  const required = (name: string, hint: string): string => {
    const value = get(name);
    if (value === undefined) problems.push(`${name} is required: ${hint}`);
    return value ?? '';
  };

  const port = parseInteger(get('PORT') ?? '8080', 0, 65535);
  if (port === undefined) problems.push(`PORT must be an integer from 0 to 65535 (got "${get('PORT')}")`);

  const publicUrl = parsePublicUrl(required('PUBLIC_URL', 'the public https URL Twilio reaches, e.g. https://abc123.ngrok.app'), problems);

  const apiKey = get('GEMINI_API_KEY') ?? get('GOOGLE_API_KEY');
  if (apiKey === undefined) problems.push('GEMINI_API_KEY (or GOOGLE_API_KEY) is required: a Gemini API key from Google AI Studio');

  const voice = get('GEMINI_VOICE') ?? DEFAULT_VOICE;
  if (!(GEMINI_VOICES as readonly string[]).includes(voice)) {
    problems.push(`GEMINI_VOICE "${voice}" is not a Gemini Live voice; use one of: ${GEMINI_VOICES.join(', ')}`);
  }

  const instructions = readInstructions(get('AGENT_INSTRUCTIONS'), get('AGENT_INSTRUCTIONS_FILE'), problems);

  const setupTimeoutMs = parseInteger(get('GEMINI_SETUP_TIMEOUT_MS') ?? '10000', 100, 120_000);
  if (setupTimeoutMs === undefined) problems.push('GEMINI_SETUP_TIMEOUT_MS must be an integer from 100 to 120000');

  const baseUrl = get('GOOGLE_GEMINI_BASE_URL');
  if (baseUrl !== undefined && !isHttpUrl(baseUrl)) problems.push(`GOOGLE_GEMINI_BASE_URL must be an http(s) URL (got "${baseUrl}")`);

  const accountSid = required('TWILIO_ACCOUNT_SID', 'your Twilio Account SID (AC followed by 32 hex digits)');
  if (accountSid !== '' && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    problems.push('TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits');
  }
  const authToken = required('TWILIO_AUTH_TOKEN', 'your Twilio Auth Token (used to verify that requests come from Twilio)');

  const twilioApiBaseUrl = get('TWILIO_API_BASE_URL');
  if (twilioApiBaseUrl !== undefined && !isHttpUrl(twilioApiBaseUrl)) problems.push(`TWILIO_API_BASE_URL must be an http(s) URL (got "${twilioApiBaseUrl}")`);

  const transferNumber = get('TRANSFER_NUMBER');
  if (transferNumber !== undefined && !/^\+[1-9]\d{1,14}$/.test(transferNumber)) {
    problems.push('TRANSFER_NUMBER must be an E.164 phone number: + and country code, digits only, e.g. +14155550100');
  }

  const toolTimeoutMs = parseInteger(get('TOOL_TIMEOUT_MS') ?? String(DEFAULT_TOOL_TIMEOUT_MS), 100, 60_000);
  if (toolTimeoutMs === undefined) problems.push('TOOL_TIMEOUT_MS must be an integer from 100 to 60000');

  const timeZone = get('RESTAURANT_TIME_ZONE') ?? DEFAULT_RESTAURANT_TIME_ZONE;
  if (!isTimeZone(timeZone)) problems.push(`RESTAURANT_TIME_ZONE must be an IANA time zone such as America/New_York (got "${timeZone}")`);

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

  const logLevel = (get('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: port ?? 8080,
    host: get('HOST') ?? '0.0.0.0',
    publicUrl: publicUrl as URL,
    gemini: {
      apiKey: apiKey as string,
      model: get('GEMINI_MODEL') ?? DEFAULT_MODEL,
      apiVersion: get('GEMINI_API_VERSION'),
      voice,
      instructions,
      setupTimeoutMs: setupTimeoutMs ?? 10_000,
    },
    twilio: { accountSid, authToken, apiBaseUrl: twilioApiBaseUrl },
    tools: { timeoutMs: toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS, transferNumber },
    restaurant: { dataDir: get('DATA_DIR') ?? './data', timeZone },
    limits,
    logLevel,
  };
}

function parseInteger(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
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
  // Routes are served at the root, so the public URL is an origin: no path to guess a proxy's rewrite from.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    problems.push(`PUBLIC_URL must be an origin such as https://abc123.ngrok.app, without a path or query (got "${text}")`);
  }
  return url;
}

function readInstructions(text: string | undefined, file: string | undefined, problems: string[]): string {
  if (text !== undefined && file !== undefined) {
    problems.push('Set AGENT_INSTRUCTIONS or AGENT_INSTRUCTIONS_FILE, not both');
    return '';
  }
  if (file === undefined) return text ?? DEFAULT_INSTRUCTIONS;
  try {
    const content = readFileSync(file, 'utf8').trim();
    if (content === '') problems.push(`AGENT_INSTRUCTIONS_FILE "${file}" is empty`);
    return content;
  } catch (error) {
    problems.push(`AGENT_INSTRUCTIONS_FILE "${file}" cannot be read: ${(error as Error).message}`);
    return '';
  }
}

/** The public URL of a path, as Twilio requests (and signs) it. */
export function publicHttpsUrl(config: Pick<Config, 'publicUrl'>, path: string): string {
  return `${config.publicUrl.origin}${path}`;
}

/** The public wss:// URL of a path: what Twilio connects to and signs for a media stream. */
export function publicWssUrl(config: Pick<Config, 'publicUrl'>, path: string): string {
  return `wss://${config.publicUrl.host}${path}`;
}
