import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, publicHttpsUrl, publicWssUrl } from './config.js';
import { createLogger } from './observability/logger.js';
import { redactPhoneNumbersInText } from './observability/redact.js';
import { startApp } from './server.js';
import { printStartBanner } from './start-banner.js';
import { describeStartupError } from './startup-error.js';
import { MEDIA_STREAM_PATH, VOICE_WEBHOOK_PATH } from './telephony/voice-webhook.js';

// A local .env is the usual way to configure a dev machine; the real environment wins over it.
if (existsSync('.env')) process.loadEnvFile('.env');

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n\nSee docs/configuration.md for every variable.\n`);
    process.exit(1);
  }
  throw error;
}

const log = createLogger({ level: config.logLevel, transcripts: config.logTranscripts });

// Last line of defence: one call's bug must never take the other calls down with the process.
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
process.on('uncaughtException', (error) => log.fatal({ err: error }, 'uncaught exception'));

// A start-up failure (port in use, unwritable DATA_DIR...) is one clear line and an exit at once: whatever already
// started (the local agent's server) must not keep a half-started process alive.
let app;
try {
  app = await startApp({ config, log });
} catch (error) {
  const line = describeStartupError(error, { host: config.host, port: config.port, dataDir: config.restaurant.dataDir });
  process.stderr.write(`gemini-phone-agent could not start: ${redactPhoneNumbersInText(line)}\n`);
  process.exit(1);
}
if (config.telephony.enabled) {
  log.info(
    { listening: app.localUrl, voiceWebhook: publicHttpsUrl(config, VOICE_WEBHOOK_PATH), mediaStream: publicWssUrl(config, MEDIA_STREAM_PATH), model: config.gemini.model },
    'phone agent ready: point your Twilio number\'s voice webhook (HTTP POST) at the voiceWebhook URL',
  );
} else {
  log.warn(
    { listening: app.localUrl, missing: config.telephony.missing },
    `Twilio phone calls are off: set ${config.telephony.missing.join(', ')} to take calls (docs/twilio.md)`,
  );
}
if (config.localModel) {
  log.warn({ localLiveServer: app.localAgent?.live.baseUrl }, 'LOCAL MODE: no GEMINI_API_KEY, calls talk to the built-in local agent, not Gemini');
}
// The URL carries the page's access key: it goes to the terminal, never into the JSON log.
printStartBanner(process.stderr, { localModel: config.localModel, browserPhoneUrl: app.browserPhoneUrl, keyFromEnvironment: config.browserPhone.accessKey !== undefined });

// A deploy must never cut a call: stop taking new ones and let those in progress finish first.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, activeCalls: app.calls.size }, 'shutting down gracefully');
    void app.drain(config.limits.drainTimeoutMs).then(
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
