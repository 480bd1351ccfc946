/**
 * A local fleet for tests and benchmarks: N instances of the real service as child processes (`node --import tsx
 * src/main.ts`, as scripts/local-fleet.sh starts them), a real Redis, a real HAProxy in front with the committed
 * deploy/haproxy/haproxy.cfg, and in this process the fake Gemini Live server and the fake Twilio REST API the
 * instances talk to.
 *
 *   const fleet = await startFleet();               // agent-1, agent-2 behind HAProxy
 *   FakeTwilioCall.dial({ serverUrl: fleet.proxy.url, publicUrl: FLEET_PUBLIC_URL, authToken: TEST_AUTH_TOKEN });
 *   await fleet.kill('agent-1');                    // kill -9
 *   metric(await fleet.metrics('agent-2'), 'phone_agent_failovers_total');
 *   await fleet.close();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instanceAddressVariable } from '../../scripts/lib/haproxy-config.js';
import { startFakeGeminiLive, type FakeGeminiLive, type FakeGeminiLiveOptions } from '../fakes/gemini-live/server.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../fakes/twilio/ids.js';
import { startFakeTwilioRestApi, type FakeTwilioRestApi } from '../fakes/twilio/rest-api.js';
import { startHaproxy, type HaproxyServer } from './haproxy-server.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { freePort } from './servers/process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FLEET_PUBLIC_URL = 'https://fleet.example.test';
export const FLEET_GEMINI_KEY = 'fleet-gemini-key';
/** METRICS_API_KEY of every instance (at least 32 characters). */
export const FLEET_METRICS_KEY = 'fleet-metrics-key-0123456789abcdef0123';
export const FLEET_GREETING = 'Hello, fleet here.';
export const FLEET_ANSWER = 'Sure, I can help.';
export const COMMITTED_HAPROXY_CONFIG = 'deploy/haproxy/haproxy.cfg';

export interface FleetInstance {
  readonly id: string;
  readonly port: number;
  /** http://127.0.0.1:<port>, the instance itself (not through the proxy). */
  readonly url: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote (its JSON log lines). */
  output(): string;
  /** The JSON log lines whose `msg` is `message`. */
  logs(message: string): Record<string, unknown>[];
}

export interface FleetOptions {
  /** Instance ids; default agent-1, agent-2 (the committed HAProxy configuration's). */
  ids?: string[];
  /** Extra environment for every instance. */
  env?: Record<string, string>;
  /** Options of the fake Gemini Live server (default: greets on the greeting prompt, answers caller turns). */
  gemini?: FakeGeminiLiveOptions;
}

export interface Fleet {
  readonly instances: FleetInstance[];
  instance(id: string): FleetInstance;
  readonly proxy: HaproxyServer;
  readonly redis: RedisServer;
  readonly gemini: FakeGeminiLive;
  readonly rest: FakeTwilioRestApi;
  /** Another HAProxy in front of the same instances, with this configuration (e.g. one without affinity). */
  startProxy(config: string): Promise<HaproxyServer>;
  /** `kill -9`: resolves once the process is gone. */
  kill(id: string): Promise<void>;
  /** SIGTERM (graceful drain); resolves at once with the exit to come. */
  terminate(id: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts a stopped instance again on its port, and waits until it is ready. */
  restart(id: string): Promise<FleetInstance>;
  /** GET /metrics of one instance (directly: the proxy keeps /metrics off the balancer). */
  metrics(id: string): Promise<string>;
  waitReady(id: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The default script: the greeting prompt (text) gets the greeting, every caller turn the answer. */
export function fleetGeminiOptions(): FakeGeminiLiveOptions {
  return { apiKey: FLEET_GEMINI_KEY, replies: ({ source }) => ({ text: source === 'text' ? FLEET_GREETING : FLEET_ANSWER }) };
}

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const ids = options.ids ?? ['agent-1', 'agent-2'];
  const dir = mkdtempSync(join(tmpdir(), 'fleet-test-'));
  const agentFile = join(dir, 'agent.json');
  writeFileSync(agentFile, JSON.stringify({ name: 'fleet', instructions: 'You answer calls for the fleet test.' }));
  const cleanups: (() => Promise<void>)[] = [];
  const proxies: HaproxyServer[] = [];
  try {
    const redis = await startRedisServer();
    cleanups.push(() => redis.close());
    const gemini = await startFakeGeminiLive(options.gemini ?? fleetGeminiOptions());
    cleanups.push(() => gemini.close());
    const rest = await startFakeTwilioRestApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
    cleanups.push(() => rest.close());

    const ports = new Map<string, number>();
    for (const id of ids) ports.set(id, await freePort());
    const envFor = (id: string): NodeJS.ProcessEnv => {
      const dataDir = join(dir, id);
      mkdirSync(dataDir, { recursive: true });
      return {
        ...process.env,
        PORT: String(ports.get(id)),
        HOST: '127.0.0.1',
        INSTANCE_ID: id,
        DATA_DIR: dataDir,
        REDIS_URL: redis.url,
        AGENT: agentFile,
        GEMINI_API_KEY: FLEET_GEMINI_KEY,
        GOOGLE_GEMINI_BASE_URL: gemini.baseUrl,
        PUBLIC_URL: FLEET_PUBLIC_URL,
        TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        TWILIO_API_BASE_URL: rest.baseUrl,
        METRICS_API_KEY: FLEET_METRICS_KEY,
        BROWSER_PHONE: '0',
        LOG_LEVEL: 'info',
        DRAIN_TIMEOUT_MS: '30000',
        ...options.env,
      };
    };

    const instances: FleetInstance[] = [];
    const launch = (id: string): FleetInstance => {
      const port = ports.get(id)!;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: envFor(id), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const append = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.length > 4_000_000) output = output.slice(-2_000_000);
      };
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      return {
        id,
        port,
        url: `http://127.0.0.1:${port}`,
        child,
        exited,
        output: () => output,
        logs: (message) => parseLogLines(output).filter((line) => line['msg'] === message),
      };
    };
    const instance = (id: string): FleetInstance => {
      const found = instances.find((i) => i.id === id);
      if (found === undefined) throw new Error(`no instance ${id}`);
      return found;
    };
    const running = (i: FleetInstance): boolean => i.child.exitCode === null && i.child.signalCode === null;
    const waitReady = async (id: string, timeoutMs = 30_000): Promise<void> => {
      const target = instance(id);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!running(target)) throw new Error(`${id} exited before it was ready:\n${target.output()}`);
        const ok = await fetch(`${target.url}/readyz`).then((r) => r.ok, () => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`${id} was not ready within ${timeoutMs} ms:\n${target.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    cleanups.push(async () => {
      for (const i of instances) if (running(i)) i.child.kill('SIGKILL');
      await Promise.all(instances.map((i) => i.exited));
    });
    for (const id of ids) instances.push(launch(id));
    await Promise.all(ids.map((id) => waitReady(id)));

    const proxyEnv = Object.fromEntries(ids.map((id) => [instanceAddressVariable(id), `127.0.0.1:${ports.get(id)}`]));
    const startProxy = async (config: string): Promise<HaproxyServer> => {
      const proxy = await startHaproxy({ config, env: proxyEnv });
      proxies.push(proxy);
      return proxy;
    };
    const proxy = await startProxy(readFileSync(join(ROOT, COMMITTED_HAPROXY_CONFIG), 'utf8'));

    return {
      instances,
      instance,
      proxy,
      redis,
      gemini,
      rest,
      startProxy,
      async kill(id) {
        const target = instance(id);
        target.child.kill('SIGKILL');
        await target.exited;
      },
      terminate(id) {
        const target = instance(id);
        target.child.kill('SIGTERM');
        return target.exited;
      },
      async restart(id) {
        const old = instance(id);
        if (running(old)) throw new Error(`${id} is still running`);
        const fresh = launch(id);
        instances.splice(instances.indexOf(old), 1, fresh);
        await waitReady(id);
        return fresh;
      },
      async metrics(id) {
        const response = await fetch(`${instance(id).url}/metrics`, { headers: { authorization: `Bearer ${FLEET_METRICS_KEY}` } });
        if (response.status !== 200) throw new Error(`/metrics of ${id} answered ${response.status}`);
        return response.text();
      },
      waitReady,
      async close() {
        for (const p of proxies.splice(0)) await p.close();
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const p of proxies) await p.close().catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The instance a `<Stream url>` names (`wss://…/media/<instance id>`): the one that answered the call's webhook. */
export function streamInstance(streamUrl: string): string {
  return new URL(streamUrl).pathname.split('/')[2] ?? '';
}

/** The repository's restaurant example agent (examples/restaurant/agent.ts), absolute, for `env: { AGENT }`. */
export const RESTAURANT_AGENT_FILE = join(ROOT, 'examples', 'restaurant', 'agent.ts');

/**
 * The sum of a Prometheus metric's series in an exposition text, over the series whose labels include `labels`
 * (0 when there is none).
 */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const seriesLabels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => seriesLabels[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

function parseLogLines(output: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return lines;
}
