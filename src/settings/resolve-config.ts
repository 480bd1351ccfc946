import { join } from 'node:path';
import { apiVersionProblem, type GeminiAuth } from '../model/gemini/gemini-auth.js';
import { readPriceTableFile } from '../costs/price-table-file.js';
import { DEFAULT_PRICES, type PriceTable } from '../costs/prices.js';
import { valuesFromSettings } from './code-settings.js';
import type { Config } from './config.js';
import { readEnvironment, type Env, type SettingValues } from './environment.js';
import type { PhoneAgentSettings } from './phone-agent-settings.js';
import { problemLine } from './rules.js';
import { SETTING_PATHS, SETTINGS, settingName, type SettingPath, type SettingSpec, type SettingValue } from './setting-table.js';

/** Every problem found in the settings, each naming the setting both ways (variable and option path). */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface SettingSources {
  /** Settings from code: each one given here wins over its environment variable. */
  settings?: PhoneAgentSettings;
  /** The environment (variables as the command line and containers set them). */
  env?: Env;
}

/** The Twilio settings that switch phone calls on; without them only the browser phone runs. */
const TELEPHONY: readonly SettingPath[] = ['publicUrl', 'twilio.accountSid', 'twilio.authToken'];
/** Stands in for PUBLIC_URL while Twilio is off: `.invalid` never resolves, so nothing can reach it by mistake. */
const TELEPHONY_DISABLED_URL = 'https://twilio-disabled.invalid';
const VERTEX_AI = 'Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true, or gemini.vertexAI)';

type CheckedSettings = { [P in SettingPath]: SettingValue<P> };

/**
 * The one validation step for both ways in: the environment and code are merged (code wins, setting by setting),
 * every value is checked by its rule, then the rules that join settings. Every problem is collected before
 * failing, so one start-up attempt tells the person starting it everything that is wrong.
 */
export function resolveConfig({ settings = {}, env = {} }: SettingSources): Config {
  const environment = readEnvironment(env);
  const problems = [...environment.problems];
  const fromCode = valuesFromSettings(settings, problems);
  const values: SettingValues = { ...environment.values, ...fromCode };
  const nameOf = (path: SettingPath): string => settingName(path, path in fromCode ? undefined : environment.readFrom[path]);
  const checked = checkEach(values, problems, nameOf);
  const auth = geminiAuth(checked, values, problems);
  const telephonyMissing = TELEPHONY.filter((path) => values[path] === undefined);
  const browserPhone = checked['browserPhone.enabled'] ?? !checked.production;
  problems.push(...serviceProblems(checked, values, { auth, telephonyMissing, browserPhone }), ...historyProblems(checked));
  const prices = priceTable(checked, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...buildConfig(checked, auth, telephonyMissing, browserPhone), ...observability(checked, prices) };
}

/** The environment alone: the command line, containers, tests. */
export function loadConfig(env: Env = process.env): Config {
  return resolveConfig({ env });
}

function checkEach(values: SettingValues, problems: string[], nameOf: (path: SettingPath) => string): CheckedSettings {
  const checked: Partial<Record<SettingPath, unknown>> = {};
  for (const path of SETTING_PATHS) {
    const spec: SettingSpec<unknown> = SETTINGS[path];
    const value = values[path] ?? (typeof spec.default === 'function' ? (spec.default as () => unknown)() : spec.default);
    if (value === undefined) continue;
    const result = spec.rule.check(value);
    if (result.ok) checked[path] = result.value;
    else problems.push(problemLine(nameOf(path), spec.rule, result.problem, value));
  }
  return checked as CheckedSettings;
}

/** How Gemini is reached, and what is wrong with it: Vertex AI's fields, a key it would ignore, the API version. */
function geminiAuth(checked: CheckedSettings, values: SettingValues, problems: string[]): GeminiAuth | undefined {
  const apiKey = checked['gemini.apiKey'];
  let auth: GeminiAuth | undefined = apiKey === undefined ? undefined : { kind: 'api-key', apiKey };
  if (values['gemini.vertexAI'] === true) {
    const { 'gemini.vertexAI.project': project, 'gemini.vertexAI.location': location } = checked;
    if (values['gemini.vertexAI.project'] === undefined) problems.push(`${settingName('gemini.vertexAI.project')} is required with ${VERTEX_AI}: the Google Cloud project id that runs it (e.g. my-project-123)`);
    if (values['gemini.vertexAI.location'] === undefined) problems.push(`${settingName('gemini.vertexAI.location')} is required with ${VERTEX_AI}: the region that serves the Live model (e.g. us-central1)`);
    // Vertex signs in with Application Default Credentials and would ignore the key: which account pays must be clear.
    if (values['gemini.apiKey'] !== undefined) problems.push(`${settingName('gemini.apiKey')} is set, but ${VERTEX_AI} signs in with Application Default Credentials and would ignore it: unset one of them`);
    if (values['gemini.model'] === undefined) problems.push(`${settingName('gemini.model')} is required with ${VERTEX_AI}: the Live model as Vertex names it (docs/vertex-ai.md)`);
    auth = project === undefined || location === undefined ? undefined : { kind: 'vertex', project, location };
  }
  if (auth !== undefined) {
    const versionProblem = apiVersionProblem(auth, checked['gemini.apiVersion'], settingName('gemini.apiVersion'));
    if (versionProblem !== undefined) problems.push(versionProblem);
  }
  return auth;
}

interface Derived {
  auth: GeminiAuth | undefined;
  telephonyMissing: readonly SettingPath[];
  browserPhone: boolean;
}

/** The rules that join settings: what production requires, something to serve, what outbound calls need. */
function serviceProblems(checked: CheckedSettings, values: SettingValues, { auth, telephonyMissing, browserPhone }: Derived): string[] {
  const problems: string[] = [];
  const missing = telephonyMissing.map((path) => settingName(path)).join(', ');
  // Real callers must never reach the canned local agent because a deploy lost its key.
  if (checked.production && auth === undefined && values['gemini.apiKey'] === undefined && values['gemini.vertexAI'] !== true) {
    problems.push(
      `A Gemini credential is required in production (NODE_ENV=production, or production: true): ${settingName('gemini.apiKey')}, or ${VERTEX_AI} with its project and location (docs/vertex-ai.md); without one, outside production, the service runs in local mode`,
    );
  }
  // A random key would have to be printed to be found, and production output is collected and kept: the operator sets it.
  if (checked.production && browserPhone && values['browserPhone.key'] === undefined) {
    problems.push(`${settingName('browserPhone.key')} is required in production with the browser phone on: its access key, at least 24 characters (e.g. the output of: openssl rand -hex 32); open /phone#key=<that key>`);
  }
  const { 'connections.headersTimeoutMs': headersMs, 'connections.requestTimeoutMs': requestMs } = checked;
  if (requestMs < headersMs) problems.push(`${settingName('connections.requestTimeoutMs')} must be at least ${settingName('connections.headersTimeoutMs')}: the request includes its headers`);
  if (telephonyMissing.length > 0 && !browserPhone) {
    problems.push(`Nothing to serve: set ${missing} for Twilio phone calls, or BROWSER_PHONE=1 (browserPhone.enabled) for the browser phone`);
  }
  if (values['outbound.apiKey'] !== undefined) {
    if (values['twilio.phoneNumber'] === undefined) problems.push(`${settingName('outbound.apiKey')} needs ${settingName('twilio.phoneNumber')}: the number outbound calls are placed from`);
    if (telephonyMissing.length > 0) problems.push(`${settingName('outbound.apiKey')} needs Twilio: set ${missing}`);
  }
  return problems;
}

/** The history's API serves the history; the post-call webhook is signed with the HTTP tools' secret. */
function historyProblems(checked: CheckedSettings): string[] {
  const problems: string[] = [];
  if (checked['history.apiKey'] !== undefined && !checked['history.enabled']) problems.push(`${settingName('history.apiKey')} serves the call history, which ${settingName('history.enabled')} turns off: unset one of them`);
  if (checked['history.webhookUrl'] !== undefined && checked['tools.webhookSecret'] === undefined) {
    problems.push(`${settingName('history.webhookUrl')} needs ${settingName('tools.webhookSecret')}: the post-call webhook is signed with it, as HTTP tool requests are`);
  }
  return problems;
}

function priceTable(checked: CheckedSettings, problems: string[]): PriceTable {
  const file = checked['costs.priceTableFile'];
  if (file === undefined) return DEFAULT_PRICES;
  const read = readPriceTableFile(file);
  if ('table' in read) return read.table;
  problems.push(...read.problems.map((problem) => problem.replace(/^PRICE_TABLE_FILE/, settingName('costs.priceTableFile'))));
  return DEFAULT_PRICES;
}

/** The history, prices and tracing, as the service's parts read them. */
function observability(c: CheckedSettings, prices: PriceTable): Pick<Config, 'history' | 'prices' | 'tracing'> {
  const webhookUrl = c['history.webhookUrl'];
  const endpoint = c['tracing.otlpEndpoint'];
  const tracesUrl = c['tracing.otlpTracesEndpoint'] ?? (endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, '')}/v1/traces`);
  return {
    history: {
      enabled: c['history.enabled'],
      sqliteFile: join(c['stores.dataDir'], 'history.sqlite'),
      retentionDays: c['history.retentionDays'] === 0 ? undefined : c['history.retentionDays'],
      phoneNumbers: c['history.phoneNumbers'],
      apiKey: c['history.apiKey'],
      webhookUrl: webhookUrl === undefined ? undefined : new URL(webhookUrl),
    },
    prices,
    tracing: tracesUrl === undefined ? { enabled: false } : { enabled: true, tracesUrl },
  };
}

function buildConfig(checked: CheckedSettings, auth: GeminiAuth | undefined, telephonyMissing: SettingPath[], browserPhone: boolean): Omit<Config, 'history' | 'prices' | 'tracing'> {
  const telephony = telephonyMissing.length === 0;
  const c = checked;
  return {
    production: c.production,
    turnDetection: c.turnDetection,
    port: c.port,
    host: c.host,
    publicUrl: telephony && c.publicUrl !== undefined ? c.publicUrl : new URL(TELEPHONY_DISABLED_URL),
    gemini: { auth, model: c['gemini.model'], apiVersion: c['gemini.apiVersion'], setupTimeoutMs: c['gemini.setupTimeoutMs'], baseUrl: c['gemini.baseUrl'] },
    localModel: auth === undefined,
    twilio: {
      accountSid: telephony ? (c['twilio.accountSid'] ?? '') : '',
      authToken: telephony ? (c['twilio.authToken'] ?? '') : '',
      phoneNumber: c['twilio.phoneNumber'],
      apiBaseUrl: c['twilio.apiBaseUrl'],
    },
    telephony: telephony ? { enabled: true } : { enabled: false, missing: telephonyMissing },
    limits: {
      maxConcurrentCalls: c['limits.maxConcurrentCalls'],
      drainTimeoutMs: c['limits.drainTimeoutMs'],
      stallTimeoutMs: c['limits.stallTimeoutMs'],
      silenceTimeoutMs: c['limits.silenceTimeoutMs'],
      maxCallDurationMs: c['limits.maxCallDurationMs'],
    },
    connections: {
      headersTimeoutMs: c['connections.headersTimeoutMs'],
      requestTimeoutMs: c['connections.requestTimeoutMs'],
      maxConnections: c['connections.maxConnections'] ?? 2 * c['limits.maxConcurrentCalls'] + 100,
      maxConnectionsPerSource: c['connections.maxConnectionsPerSource'] ?? c['limits.maxConcurrentCalls'] + 20,
    },
    stores: { redisUrl: c['stores.redisUrl'], dataDir: c['stores.dataDir'], databaseUrl: c['stores.databaseUrl'] },
    fleet: { instanceId: c['fleet.instanceId'] },
    recording: { enabled: c['recording.enabled'], dir: join(c['stores.dataDir'], 'recordings'), retentionDays: c['recording.retentionDays'], twilio: c['recording.twilio'] },
    logging: { level: c['logging.level'], transcripts: c['logging.transcripts'] },
    browserPhone: { enabled: browserPhone, key: c['browserPhone.key'] },
    metrics: { apiKey: c['metrics.apiKey'] },
    tools: { timeoutMs: c['tools.timeoutMs'], webhookSecret: c['tools.webhookSecret'], transferNumber: c['tools.transferNumber'], transferMode: c['tools.transferMode'] },
    outbound: { apiKey: c['outbound.apiKey'], callsPerMinute: c['outbound.callsPerMinute'], machineDetection: c['outbound.machineDetection'] },
  };
}
