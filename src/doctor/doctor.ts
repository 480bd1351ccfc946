import { AgentDirectory, type CallAgent } from '../agents/agent-directory.js';
import { AgentLoadError } from '../agents/load-agents.js';
import { loadAgents } from '../index.js';
import type { CreateGenAIOptions, GeminiAuth } from '../model/gemini/gemini-auth.js';
import { createModel } from '../service/model.js';
import { publicHttpsUrl, type Config } from '../settings/config.js';
import type { ModelLog } from '../model/realtime-model.js';
import { ConfigError, loadConfig } from '../settings/resolve-config.js';
import { settingName } from '../settings/setting-table.js';
import { VOICE_WEBHOOK_PATH } from '../telephony/routes.js';
import { DefinitionError } from '../tools/tool.js';
import { fail, pass, skip, type CheckResult } from './check.js';
import { checkGemini } from './gemini-checks.js';
import { checkPublicUrl } from './reachability.js';
import { checkPostgres, checkRedis } from './store-checks.js';
import { checkTwilio } from './twilio-checks.js';

export interface DoctorOptions {
  env: Record<string, string | undefined>;
  /** The agent file: AGENT, or the command's argument. */
  agentPath: string | undefined;
  /** Each check as it finishes, for a report that grows line by line. */
  onCheck?: (check: CheckResult) => void;
  /** Where PUBLIC_URL is reached from this machine, when not at itself (the tests reach a loopback http proxy). */
  publicUrlFromHere?: string;
  /** Vertex AI: google-auth-library options (default: Application Default Credentials). */
  googleAuthOptions?: CreateGenAIOptions['googleAuthOptions'];
}

export interface DoctorReport {
  checks: CheckResult[];
  /** Nothing found that would make calls fail. */
  ok: boolean;
}

const QUIET: ModelLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Checks a setup before its first call and after every upgrade: the configuration, the agents, Gemini with each
 * agent's exact settings, Twilio (credentials, the number's webhook, its error log), that PUBLIC_URL reaches this
 * service and passes WebSocket upgrades, the tunnel, Redis and Postgres. One line per check (docs/troubleshooting.md).
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const report = (...results: CheckResult[]): void => {
    for (const result of results) {
      checks.push(result);
      options.onCheck?.(result);
    }
  };
  const config = checkConfiguration(options.env, report);
  if (config === undefined) {
    report(skip('everything else', 'fix the configuration first'));
    return { checks, ok: false };
  }
  const agents = await checkAgents(config, options.agentPath, report);
  const auth = config.gemini.auth;
  if (auth === undefined) report(skip('Gemini', 'no GEMINI_API_KEY (nor Vertex AI): calls talk to the local stand-in, not Gemini'));
  else if (agents === undefined) report(skip('Gemini', 'the agents do not load: there is nothing to set up'));
  else report(...(await checkGemini(geminiOptions(config, auth, options), agents)));
  if (config.telephony.enabled) {
    report(...(await checkTwilio(config.twilio, agentNumbers(config, agents), publicHttpsUrl(config, VOICE_WEBHOOK_PATH))));
    report(...(await checkPublicUrl({ publicUrl: config.publicUrl, port: config.port, host: config.host, authToken: config.twilio.authToken, ...fromHere(options) })));
  } else {
    report(skip('Twilio and PUBLIC_URL', `phone calls are off: set ${config.telephony.missing.map((path) => settingName(path)).join(', ')}`));
  }
  const tunnel = checkTunnel(options.env, config.telephony.enabled ? config.publicUrl : undefined);
  if (tunnel !== undefined) report(tunnel);
  if (config.stores.redisUrl !== undefined) report(await checkRedis(config.stores.redisUrl));
  const databaseUrl = options.env.DATABASE_URL?.trim();
  if (databaseUrl) report(await checkPostgres(databaseUrl));
  return { checks, ok: !checks.some((check) => check.status === 'fail' && check.blocking) };
}

function checkConfiguration(env: DoctorOptions['env'], report: (result: CheckResult) => void): Config | undefined {
  try {
    const config = loadConfig(env);
    report(pass('configuration', 'every setting valid'));
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report(fail('configuration', error.problems.join('; ')));
    return undefined;
  }
}

async function checkAgents(config: Config, agentPath: string | undefined, report: (result: CheckResult) => void): Promise<CallAgent[] | undefined> {
  if (agentPath === undefined) {
    report(fail('agents', 'AGENT is not set: name your agent file, e.g. AGENT=./agents/dental.ts (or give it after doctor)'));
    return undefined;
  }
  try {
    const loaded = await loadAgents(agentPath);
    const { model } = createModel(config, undefined);
    const directory = new AgentDirectory(loaded, { transferNumber: config.tools.transferNumber, toolWebhookSecret: config.tools.webhookSecret, model });
    report(pass('agents', `${directory.all.map((agent) => `${agent.agent.name} (${agent.modelName})`).join(', ')} from ${agentPath}`));
    return directory.all;
  } catch (error) {
    if (error instanceof AgentLoadError) report(fail('agents', error.problems.map((problem) => `${error.file}: ${problem}`).join('; ')));
    else if (error instanceof DefinitionError) report(fail('agents', error.problems.join('; ')));
    else throw error;
    return undefined;
  }
}

function geminiOptions(config: Config, auth: GeminiAuth, options: DoctorOptions) {
  const { apiVersion, setupTimeoutMs, baseUrl } = config.gemini;
  return {
    auth,
    apiVersion,
    setupTimeoutMs,
    log: QUIET,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ...(options.googleAuthOptions === undefined ? {} : { googleAuthOptions: options.googleAuthOptions }),
  };
}

/** The numbers whose webhook must point here: TWILIO_PHONE_NUMBER and every agent's own. */
function agentNumbers(config: Config, agents: readonly CallAgent[] | undefined): string[] {
  const numbers = [config.twilio.phoneNumber, ...(agents ?? []).flatMap((agent) => agent.agent.phoneNumbers)];
  return [...new Set(numbers.filter((number): number is string => number !== undefined))];
}

function fromHere(options: DoctorOptions): { reachFrom?: string } {
  return options.publicUrlFromHere === undefined ? {} : { reachFrom: options.publicUrlFromHere };
}

/**
 * `npm run dev` opens an ngrok tunnel when NGROK_AUTHTOKEN is set (scripts/dev.ts). Its URL is the number's webhook:
 * without NGROK_DOMAIN it changes every run, and a PUBLIC_URL on another host is not where Twilio's calls go.
 */
export function checkTunnel(env: DoctorOptions['env'], publicUrl: URL | undefined): CheckResult | undefined {
  if (!env.NGROK_AUTHTOKEN?.trim()) return undefined;
  const domain = env.NGROK_DOMAIN?.trim();
  const name = 'tunnel (npm run dev)';
  if (domain === undefined || domain === '') {
    return fail(name, "without NGROK_DOMAIN ngrok gives a new URL every run, and the number's webhook must be set again each time (npm run dev -- --configure): claim your free static domain and set NGROK_DOMAIN", false);
  }
  if (publicUrl !== undefined && publicUrl.host !== domain) {
    return fail(name, `npm run dev's tunnel is https://${domain}, but PUBLIC_URL is ${publicUrl.origin}: set PUBLIC_URL=https://${domain} so the checks above test the tunnel Twilio will use`, false);
  }
  return pass(name, publicUrl === undefined ? `https://${domain}: set PUBLIC_URL to it to check it end to end` : `https://${domain} is PUBLIC_URL`);
}
