import { SETTING_PATHS, SETTINGS, type SettingPath } from './setting-table.js';

export type Env = Record<string, string | undefined>;

/**
 * Settings as they come in, before they are checked: from code (PhoneAgentSettings flattened to option paths) or
 * read from the environment (typed where the text parses, the text itself where it does not). `gemini.vertexAI`
 * is true when Vertex AI was chosen, whatever its two fields say.
 */
export type SettingValues = Partial<Record<SettingPath | 'gemini.vertexAI', unknown>>;

export interface EnvironmentReading {
  values: SettingValues;
  /** The variable a value was read from where it is not the table's own (GOOGLE_API_KEY, GOOGLE_VERTEX_BASE_URL). */
  readFrom: Partial<Record<SettingPath, string>>;
  /** What is wrong in the environment itself: two variables that disagree, a retired one still set. */
  problems: string[];
}

/** Read differently from the rest: two variables for one setting, or a variable that selects a group. */
const READ_APART = new Set<SettingPath>(['production', 'gemini.apiKey', 'gemini.vertexAI.project', 'gemini.vertexAI.location', 'gemini.baseUrl', 'tracing.otlpEndpoint', 'tracing.otlpTracesEndpoint']);

/** Variables that configured what agents now define (defineAgent, or a JSON agent named by AGENT). */
const RETIRED = ['GEMINI_VOICE', 'AGENT_INSTRUCTIONS', 'AGENT_INSTRUCTIONS_FILE'];

/**
 * The environment as a source of settings (the command line, containers, `.env`): each variable in SETTINGS maps
 * onto its option path. An empty variable is unset. Nothing is judged here but what only the environment can get
 * wrong; the values are checked with those from code, in one step (resolve-config.ts).
 */
export function readEnvironment(env: Env): EnvironmentReading {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const values: SettingValues = {};
  const readFrom: Partial<Record<SettingPath, string>> = {};
  const problems: string[] = [];
  for (const path of SETTING_PATHS) {
    if (READ_APART.has(path)) continue;
    const text = get(SETTINGS[path].env);
    if (text !== undefined) values[path] = SETTINGS[path].rule.fromText(text);
  }
  if (get('NODE_ENV') !== undefined) values.production = get('NODE_ENV') === 'production';
  readGemini(get, { values, readFrom, problems });
  readTracing(get, values);
  for (const name of RETIRED) {
    if (get(name) !== undefined) problems.push(`${name} is no longer read: the agent sets its voice and instructions (defineAgent, or a JSON agent file named by AGENT; see docs/agents.md)`);
  }
  return { values, readFrom, problems };
}

/**
 * The SDK's own variables (`@google/genai` reads the same names): GEMINI_API_KEY or GOOGLE_API_KEY, and Vertex AI
 * selected by GOOGLE_GENAI_USE_VERTEXAI (or its newer name GOOGLE_GENAI_USE_ENTERPRISE, which wins in the SDK) with
 * GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION, read only when Vertex AI is selected: a Google Cloud machine sets
 * GOOGLE_CLOUD_PROJECT for other reasons.
 */
function readGemini(get: (name: string) => string | undefined, { values, readFrom, problems }: EnvironmentReading): void {
  const geminiKey = get('GEMINI_API_KEY');
  const googleKey = get('GOOGLE_API_KEY');
  // The SDK would silently prefer GOOGLE_API_KEY: which account pays must not be a guess.
  if (geminiKey !== undefined && googleKey !== undefined && geminiKey !== googleKey) {
    problems.push('GEMINI_API_KEY and GOOGLE_API_KEY are both set, to different keys: set only one');
  }
  if (geminiKey === undefined && googleKey !== undefined) readFrom['gemini.apiKey'] = 'GOOGLE_API_KEY';
  const apiKey = geminiKey ?? googleKey;
  if (apiKey !== undefined) values['gemini.apiKey'] = apiKey;

  const vertexai = readSwitch('GOOGLE_GENAI_USE_VERTEXAI', get, problems);
  const enterprise = readSwitch('GOOGLE_GENAI_USE_ENTERPRISE', get, problems);
  if (vertexai !== undefined && enterprise !== undefined && vertexai !== enterprise) {
    problems.push('GOOGLE_GENAI_USE_VERTEXAI and GOOGLE_GENAI_USE_ENTERPRISE disagree: set only one of them');
  }
  const vertex = (enterprise ?? vertexai) === true;
  // The SDK reads the base URL of the backend it talks to.
  const baseUrl = get(vertex ? 'GOOGLE_VERTEX_BASE_URL' : 'GOOGLE_GEMINI_BASE_URL');
  if (baseUrl !== undefined) values['gemini.baseUrl'] = baseUrl;
  if (vertex) readFrom['gemini.baseUrl'] = 'GOOGLE_VERTEX_BASE_URL';
  if (!vertex) return;
  values['gemini.vertexAI'] = true;
  for (const path of ['gemini.vertexAI.project', 'gemini.vertexAI.location'] as const) {
    const text = get(SETTINGS[path].env);
    if (text !== undefined) values[path] = text;
  }
}

/**
 * The OTLP endpoints, unless the standard switches turn tracing off: OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 */
function readTracing(get: (name: string) => string | undefined, values: SettingValues): void {
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true' || get('OTEL_TRACES_EXPORTER') === 'none') return;
  for (const path of ['tracing.otlpEndpoint', 'tracing.otlpTracesEndpoint'] as const) {
    const text = get(SETTINGS[path].env);
    if (text !== undefined) values[path] = text;
  }
}

/** `true`/`1` → true, `false`/`0` → false (any case, as the SDK reads them), unset → undefined. */
function readSwitch(name: string, get: (name: string) => string | undefined, problems: string[]): boolean | undefined {
  const value = get(name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  problems.push(`${name} must be true, false, 1 or 0 (got "${value}")`);
  return undefined;
}
