/**
 * The service under test, alone in its own process: the real `startService` (express, ws, the real
 * @google/genai SDK) with GOOGLE_GEMINI_BASE_URL pointing at the load generator's Live server.
 * Logs go to stdout at the production default level, which the parent sends to a file.
 * Reports its own CPU time, event-loop delay and memory over IPC, so the load generators' work is
 * never charged to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { createRestaurantAgent } from '../../examples/restaurant/agent.js';
import { loadConfig } from '../../src/settings/resolve-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { startService } from '../../src/service/start-service.js';
import { BENCH_ACCOUNT_SID, BENCH_AUTH_TOKEN, BENCH_GEMINI_KEY, BENCH_PUBLIC_URL, type ServerCommand, type ServerReply } from './common.js';
import { ProcessWindow } from './process-metrics.js';

const send = (reply: ServerReply): void => {
  process.send?.(reply);
};

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
const window = new ProcessWindow();
let profiler: Session | undefined;

process.on('message', (command: ServerCommand) => {
  void handle(command).catch((error: unknown) => send({ type: 'error', message: String(error) }));
});

async function handle(command: ServerCommand): Promise<void> {
  switch (command.type) {
    case 'window-start':
      window.start();
      return;
    case 'window-end':
      send({ type: 'window', ...window.end(), activeCalls: app.calls.size });
      return;
    case 'memory': {
      // Settle garbage first so the figure is live memory, not what the collector has yet to reclaim (unless a
      // sample of the moment is wanted: collecting would itself stall the process being watched).
      const gc = command.settle === false ? undefined : (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const usage = process.memoryUsage();
      send({ type: 'memory', memory: { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external, activeCalls: app.calls.size } });
      return;
    }
    case 'profile-start':
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
      await profiler.post('Profiler.start');
      send({ type: 'profile-started' });
      return;
    case 'profile-stop': {
      if (profiler === undefined) throw new Error('profiler not started');
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(command.file, JSON.stringify(profile));
      profiler.disconnect();
      profiler = undefined;
      send({ type: 'profile-stopped', file: command.file });
      return;
    }
    case 'stop':
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
  }
}

send({ type: 'ready', url: app.localUrl });
