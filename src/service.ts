import type { AddressInfo } from 'node:net';
import { publicHttpsUrl, publicWssUrl, ConfigError, loadConfig } from './config.js';
import type { Agent } from './agents/agent.js';
import type { RealtimeModel } from './model/realtime-model.js';
import { createLogger, type Logger } from './observability/logger.js';
import { startApp, type RunningApp } from './server.js';
import { printStartBanner } from './start-banner.js';
import { MEDIA_STREAM_PATH, VOICE_WEBHOOK_PATH } from './telephony/routes.js';
import { DefinitionError } from './tools/tool.js';
import { redactPhoneNumbersInText } from './observability/redact.js';
import { describeStartupError } from './startup-error.js';

/** Why the service could not start: every problem found, each worded for the person starting it. */
export class StartupError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The phone agent cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'StartupError';
  }
}

export interface PhoneAgentOptions {
  /** The agent, or agents, to run. With several, each call's `To` number picks one (docs/agents.md). */
  agents: Agent | readonly Agent[];
  /** Settings, as environment variables (docs/configuration.md). Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** Stop gracefully on SIGTERM and SIGINT: no new calls, calls in progress finish (default true). */
  handleSignals?: boolean;
  /** Print where to talk to the agent on stderr (default true). */
  banner?: boolean;
  /** A pino logger of your own (default: JSON lines on stdout at LOG_LEVEL). */
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
  /** Stops taking calls, lets calls in progress finish for up to `timeoutMs` (default DRAIN_TIMEOUT_MS), then stops. */
  drain(timeoutMs?: number): Promise<{ endedByTimeout: number }>;
  /** Ends every call and stops at once. */
  stop(): Promise<void>;
}

/**
 * Starts the phone agent service with your agents: the Twilio webhooks and media streams, the browser phone,
 * outbound calls. Throws a StartupError naming every bad setting and agent problem at once.
 */
export async function startPhoneAgent(options: PhoneAgentOptions): Promise<PhoneAgentService> {
  const agents = Array.isArray(options.agents) ? (options.agents as readonly Agent[]) : [options.agents as Agent];
  let config;
  try {
    config = loadConfig(options.env ?? process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new StartupError(error.problems);
    throw error;
  }
  const log = options.log ?? createLogger({ level: config.logLevel, transcripts: config.logTranscripts });
  let app: RunningApp;
  try {
    app = await startApp({ config, log, agents, ...(options.model === undefined ? {} : { model: options.model }) });
  } catch (error) {
    if (error instanceof DefinitionError) throw new StartupError(error.problems);
    throw new StartupError([redactPhoneNumbersInText(describeStartupError(error, { host: config.host, port: config.port, dataDir: config.dataDir }))]);
  }

  // What the server is bound to (HOST 0.0.0.0: every interface), and the URL that reaches it from this machine.
  const listening = { listening: listenAddress(app.server.address() as AddressInfo), localUrl: app.localUrl };
  if (config.telephony.enabled) {
    log.info(
      { ...listening, voiceWebhook: publicHttpsUrl(config, VOICE_WEBHOOK_PATH), mediaStream: publicWssUrl(config, MEDIA_STREAM_PATH), agents: agents.map((a) => a.name) },
      "phone agent ready: point your Twilio number's voice webhook (HTTP POST) at the voiceWebhook URL",
    );
  } else {
    log.warn(
      { ...listening, missing: config.telephony.missing },
      `Twilio phone calls are off: set ${config.telephony.missing.join(', ')} to take calls (docs/twilio.md)`,
    );
  }
  if (app.localModel !== undefined) log.warn('LOCAL MODE: no GEMINI_API_KEY, calls talk to the built-in local stand-in model, not Gemini');
  // The URL carries the page's access key: it goes to the terminal, never into the JSON log.
  if (options.banner ?? true) {
    printStartBanner(process.stderr, { localModel: config.localModel, browserPhoneUrl: app.browserPhoneUrl, keySource: app.browserPhoneKeySource, agents: agents.map((a) => a.name) });
  }

  const drainTimeoutMs = config.limits.drainTimeoutMs;
  if (options.handleSignals ?? true) {
    // A deploy must never cut a call: stop taking new ones and let those in progress finish first.
    let stopping = false;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (stopping) return;
        stopping = true;
        log.info({ signal, activeCalls: app.calls.size }, 'shutting down gracefully');
        void app.drain(drainTimeoutMs).then(
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

  return {
    url: app.localUrl,
    browserPhoneUrl: app.browserPhoneUrl,
    get activeCalls() {
      return app.calls.size;
    },
    drain: (timeoutMs = drainTimeoutMs) => app.drain(timeoutMs),
    stop: () => app.stop(),
  };
}

/** `0.0.0.0:8080`, `[::]:8080`, `127.0.0.1:8080`: the address and port the server is bound to. */
function listenAddress(address: AddressInfo): string {
  return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
