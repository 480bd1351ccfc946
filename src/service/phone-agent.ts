import type { Agent } from '../agents/agent.js';
import type { RealtimeModel } from '../model/realtime-model.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { redactPhoneNumbersInText } from '../observability/redact.js';
import { publicHttpsUrl, publicWssUrl, type Config } from '../settings/config.js';
import type { Env } from '../settings/environment.js';
import type { PhoneAgentSettings } from '../settings/phone-agent-settings.js';
import { ConfigError, resolveConfig } from '../settings/resolve-config.js';
import { settingName } from '../settings/setting-table.js';
import { MEDIA_STREAM_PATH, VOICE_WEBHOOK_PATH } from '../telephony/routes.js';
import { DefinitionError } from '../tools/tool.js';
import { printStartBanner } from './start-banner.js';
import { describeStartupError } from './startup-error.js';
import { startService, type RunningService } from './start-service.js';

/** Why the service could not start: every problem found, each worded for the person starting it. */
export class StartupError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The phone agent cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'StartupError';
  }
}

/**
 * What `startPhoneAgent` takes: your agents, the service's settings (PhoneAgentSettings, docs/configuration.md),
 * and how the process around it behaves.
 */
export interface PhoneAgentOptions extends PhoneAgentSettings {
  /** The agent, or agents, to run. With several, each call's `To` number picks one (docs/agents.md). */
  agents: Agent | readonly Agent[];
  /**
   * The environment, a source of the same settings: each setting given in code wins over its variable, and the
   * variables fill the rest. Default `process.env`; `{}` configures from code alone.
   */
  env?: Env;
  /** Stop gracefully on SIGTERM and SIGINT: no new calls, calls in progress finish (default true). */
  handleSignals?: boolean;
  /** Print where to talk to the agent on stderr (default true). */
  banner?: boolean;
  /** A pino logger of your own (default: JSON lines on stdout at `logging.level`). */
  log?: Logger;
  /** Another realtime model than Gemini Live: any implementation of the model contract (docs/realtime-model.md). */
  model?: RealtimeModel;
}

/** A running phone agent service. */
export interface PhoneAgentService {
  /** Where the service listens, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** The browser phone's URL with its access key, when the browser phone is on (print it, never log it). */
  readonly browserPhoneUrl: string | undefined;
  readonly activeCalls: number;
  /** Stops taking calls, lets calls in progress finish for up to `timeoutMs` (default `limits.drainTimeoutMs`), then stops. */
  drain(timeoutMs?: number): Promise<{ endedByTimeout: number }>;
  /** Ends every call and stops at once. */
  stop(): Promise<void>;
}

/**
 * Starts the phone agent service with your agents: the Twilio webhooks and media streams, the browser phone,
 * outbound calls. Throws a StartupError naming every bad setting and agent problem at once.
 */
export async function startPhoneAgent(options: PhoneAgentOptions): Promise<PhoneAgentService> {
  const { agents: given, env = process.env, handleSignals = true, banner = true, log: givenLog, model, ...settings } = options;
  const agents = Array.isArray(given) ? (given as readonly Agent[]) : [given as Agent];
  const config = configFor(settings, env);
  const log = givenLog ?? createLogger({ level: config.logging.level, transcripts: config.logging.transcripts });
  let service: RunningService;
  try {
    service = await startService({ config, log, agents, ...(model === undefined ? {} : { model }) });
  } catch (error) {
    if (error instanceof DefinitionError) throw new StartupError(error.problems);
    throw new StartupError([redactPhoneNumbersInText(describeStartupError(error, { host: config.host, port: config.port, dataDir: config.stores.dataDir }))]);
  }
  announce(config, service, agents, log);
  // The URL carries the page's access key: it goes to the terminal, never into the JSON log.
  if (banner) {
    printStartBanner(process.stderr, { localModel: config.localModel, browserPhoneUrl: service.browserPhoneUrl, keySource: service.browserPhoneKeySource, agents: agents.map((a) => a.name) });
  }
  const drainTimeoutMs = config.limits.drainTimeoutMs;
  if (handleSignals) drainOnSignals(service, log, drainTimeoutMs);
  return {
    url: service.localUrl,
    browserPhoneUrl: service.browserPhoneUrl,
    get activeCalls() {
      return service.calls.size;
    },
    drain: (timeoutMs = drainTimeoutMs) => service.drain(timeoutMs),
    stop: () => service.stop(),
  };
}

function configFor(settings: PhoneAgentSettings, env: Env): Config {
  try {
    return resolveConfig({ settings, env });
  } catch (error) {
    if (error instanceof ConfigError) throw new StartupError(error.problems);
    throw error;
  }
}

/** The first log lines: where Twilio reaches the service, or what to set for it; and whether it runs in local mode. */
function announce(config: Config, service: RunningService, agents: readonly Agent[], log: Logger): void {
  // What the server is bound to (HOST 0.0.0.0: every interface), and the URL that reaches it from this machine.
  const listening = { listening: service.boundAddress, localUrl: service.localUrl };
  if (config.telephony.enabled) {
    log.info(
      { ...listening, voiceWebhook: publicHttpsUrl(config, VOICE_WEBHOOK_PATH), mediaStream: publicWssUrl(config, MEDIA_STREAM_PATH), agents: agents.map((a) => a.name) },
      "phone agent ready: point your Twilio number's voice webhook (HTTP POST) at the voiceWebhook URL",
    );
  } else {
    const missing = config.telephony.missing.map((path) => settingName(path));
    log.warn({ ...listening, missing }, `Twilio phone calls are off: set ${missing.join(', ')} to take calls (docs/twilio.md)`);
  }
  if (service.localModel !== undefined) log.warn('LOCAL MODE: no Gemini credential, calls talk to the built-in local stand-in model, not Gemini');
}

/** A deploy must never cut a call: on SIGTERM or SIGINT, stop taking new ones and let those in progress finish first. */
function drainOnSignals(service: RunningService, log: Logger, drainTimeoutMs: number): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, activeCalls: service.calls.size }, 'shutting down gracefully');
      void service.drain(drainTimeoutMs).then(
        ({ endedByTimeout }) => {
          log.info({ endedByTimeout }, 'stopped');
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
