/**
 * The service under test, alone in its own process: the real `startService` (express, ws, the real
 * @google/genai SDK) with GOOGLE_GEMINI_BASE_URL pointing at the load generator's Live server.
 * Logs go to stdout at the production default level, which the parent sends to a file.
 * Reports its own CPU time, event-loop delay, garbage collection and memory over IPC (child-commands.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRestaurantAgent } from '../../examples/restaurant/agent.js';
import { loadConfig } from '../../src/settings/resolve-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { startService } from '../../src/service/start-service.js';
import { serveBenchCommands } from './child-commands.js';
import { BENCH_ACCOUNT_SID, BENCH_AUTH_TOKEN, BENCH_GEMINI_KEY, BENCH_PUBLIC_URL } from './common.js';

// The sample business's database goes to a throw-away directory, removed when the server stops.
const dataDir = mkdtempSync(join(tmpdir(), 'bench-data-'));
const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  PUBLIC_URL: BENCH_PUBLIC_URL,
  GEMINI_API_KEY: BENCH_GEMINI_KEY,
  TWILIO_ACCOUNT_SID: BENCH_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: BENCH_AUTH_TOKEN,
  GOOGLE_GEMINI_BASE_URL: process.env.GOOGLE_GEMINI_BASE_URL,
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  // The benchmark looks for the server's limit; admission control must not find it first.
  MAX_CONCURRENT_CALLS: '100000',
  DATA_DIR: dataDir,
  // Extra settings for one run (the abuse measurement turns the browser phone on, with a known key).
  ...(JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>),
});
const log = createLogger({ level: config.logging.level });
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));

const app = await startService({ config, log, agents: [createRestaurantAgent({ dataDir })] });
serveBenchCommands(
  {
    activeCalls: () => app.calls.size,
    stop: async () => {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  },
  app.localUrl,
);
