/**
 * Item 3: N simultaneous calls through the real server on loopback. Three processes:
 *   this one (orchestration only, idle while measuring),
 *   the server child (src/service/start-service.ts `startService`, real SDK, restarted for every level),
 *   the load generator (Twilio side of every call + the Live server).
 * For each N: start the server, place N calls one by one, let them run (warm-up), measure a window,
 * then hang up. Fixed levels first, then upward until p99 latency either way exceeds the limit; then the baseline
 * bridge (baseline-bridge.ts) under the same load, for the side-by-side ratios.
 */
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { machineTimes, Patience, waitForQuietMachine } from '../machine.js';
import { round, type Percentiles } from '../stats.js';
import type {
  CallScript,
  CpuWindow,
  EventLoopDelay,
  GcPauses,
  HangupResult,
  LoadCommand,
  LoadReply,
  RampResult,
  ServerCommand,
  ServerMemory,
  ServerReply,
  WindowResult,
} from './common.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SERVER_CPU = 0;
const LOAD_CPU = 1;
const TSX = ['--import', 'tsx'];
const MIB = 1024 * 1024;

export interface EndToEndOptions {
  /** Levels always measured, in order. */
  levels: number[];
  /** Then N = last level + step, + 2 step, ... while p99 caller-to-model latency stays within the limit. */
  searchStep: number;
  /** No level above this is tried (the machine has 2 cores and the load generator needs one). */
  ceiling: number;
  latencyLimitMs: number;
  warmupMs: number;
  measureMs: number;
  script: CallScript;
  /** The same load on the baseline bridge (baseline-bridge.ts) at these levels, in order, until it fails a level. */
  baselineLevels?: number[];
  /** Record a CPU profile of the server during the window of this level. */
  profileCalls?: number;
  profileFile?: string;
  logDir?: string;
  /** Pin the server to core 0 and the load generator to core 1 (default: when taskset and 2 cores exist). */
  pin?: boolean;
  /**
   * A level during which other processes kept more than this many cores busy is measured again
   * (after waiting for a quiet machine), up to `retries` times; the least disturbed attempt counts.
   */
  backgroundLimitCores?: number;
  retries?: number;
  /** Shared limit on waiting for a quiet machine before a retry; no retry once it is used up. */
  patience?: Patience;
  onProgress?: (line: string) => void;
}

/** Which bridge takes the calls: this service, or the popular samples' way (baseline-bridge.ts). */
export type BridgeKind = 'service' | 'baseline';

export interface LevelResult {
  bridge: BridgeKind;
  calls: number;
  callsUp: number;
  rampMs: number;
  callerToModelMs: Percentiles;
  modelToCallerMs: Percentiles;
  interruptedToClearMs: Percentiles;
  streamStartToFirstAudioMs: Percentiles;
  server: {
    cpu: CpuWindow;
    /** Server CPU per call as a percentage of one core. */
    cpuPerCallPercentOfCore: number;
    eventLoopDelay: EventLoopDelay;
    gcPauses: GcPauses;
    rssMiB: number;
    rssPerCallMiB: number;
    heapPerCallMiB: number;
    /** Memory outside the JavaScript heap (ArrayBuffers, Buffers) per call, MiB. */
    externalPerCallMiB: number;
    /** Once every call has ended (garbage collected), over the idle server before the calls: RSS and heap, MiB. */
    rssAfterCallsGrowthMiB: number;
    heapAfterCallsGrowthMiB: number;
  };
  loadGenerator: { cpu: CpuWindow; eventLoopDelay: EventLoopDelay };
  /** Busy cores of the whole machine during the window (server + load generator + anything else). */
  machineBusyCores: number;
  /** machineBusyCores minus the server and the load generator: other processes competing for the 2 cores. */
  backgroundCores: number;
  /** How many times this level was measured (more than 1 when other processes disturbed it). */
  attempts: number;
  checks: { callerFramesMissing: number; protocolViolations: number; firstViolation: string | undefined; frameCountMismatches: number; sessionsStillOpen: number; rampFailures: number };
}

export interface EndToEndResult {
  method: string;
  /** Server on core 0, load generator on core 1 (taskset); otherwise both float over all cores. */
  pinned: boolean;
  script: CallScript;
  warmupMs: number;
  measureMs: number;
  latencyLimitMs: number;
  levels: LevelResult[];
  /** The baseline bridge under the same load (empty when not run). */
  baseline: LevelResult[];
  capacity: {
    /** Largest N measured with p99 latency both ways within the limit. */
    maxCallsWithinLimit: number;
    /** Smallest N measured over the limit, or null when the ceiling was reached first. */
    firstCallsOverLimit: number | null;
    serverCoresAtMax: number;
    /** maxCallsWithinLimit / serverCoresAtMax. */
    callsPerCore: number;
    /** Calls per core of CPU alone (calls / server cores) at the largest level measured, whatever its latency. */
    cpuBoundCallsPerCore: number;
    cpuBoundAtCalls: number;
    stoppedBecause: string;
  };
  profile: string | null;
}

/** Sends commands to a child and waits for replies of a given type. */
export class Child<Command, Reply extends { type: string }> {
  private readonly waiting: Array<{ type: string; resolve: (reply: Reply) => void; reject: (error: Error) => void }> = [];
  private exited = false;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on('message', (reply: Reply) => {
      if (reply.type === 'error') {
        const message = (reply as unknown as { message: string }).message;
        for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`${name}: ${message}`));
        return;
      }
      const index = this.waiting.findIndex((waiter) => waiter.type === reply.type);
      if (index === -1) return;
      const [waiter] = this.waiting.splice(index, 1);
      waiter!.resolve(reply);
    });
    process.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`${name} exited (${code ?? signal}) while waiting for ${waiter.type}`));
    });
  }

  wait<T extends Reply['type']>(type: T, timeoutMs: number): Promise<Extract<Reply, { type: T }>> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiting.findIndex((waiter) => waiter.resolve === done);
        if (index !== -1) this.waiting.splice(index, 1);
        reject(new Error(`${this.name}: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (reply: Reply): void => {
        clearTimeout(timer);
        resolve(reply as Extract<Reply, { type: T }>);
      };
      this.waiting.push({
        type,
        resolve: done,
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  send(command: Command): void {
    if (!this.exited) this.process.send(command as object);
  }

  async request<T extends Reply['type']>(command: Command, type: T, timeoutMs: number): Promise<Extract<Reply, { type: T }>> {
    const reply = this.wait(type, timeoutMs);
    this.send(command);
    return reply;
  }

  async exit(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** True when processes can be pinned: the server gets core 0 to itself, the load generator core 1. */
function canPin(): boolean {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A Node child with an IPC channel, optionally pinned to one core (taskset), running a TypeScript entry through tsx. */
function spawnNode(script: string, execArgv: string[], cpu: number | undefined, stdio: StdioOptions, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const node = [process.execPath, ...TSX, ...execArgv, join(HERE, script)];
  return cpu === undefined ? spawn(node[0]!, node.slice(1), { stdio, env }) : spawn('taskset', ['-c', String(cpu), ...node], { stdio, env });
}

export type ServerChild = Child<ServerCommand, ServerReply>;
type LoadChild = Child<LoadCommand, LoadReply>;

/**
 * The service in its own process (server-child.ts), or the baseline bridge (baseline-bridge.ts), its Live API at
 * `liveUrl`; `settings` are added to the service's environment.
 */
export async function startServer(
  liveUrl: string,
  logFile: string,
  pinned: boolean,
  settings: Record<string, string> = {},
  bridge: BridgeKind = 'service',
): Promise<{ child: ServerChild; url: string }> {
  const log = openSync(logFile, 'w');
  const child = new Child<ServerCommand, ServerReply>(
    bridge,
    spawnNode(bridge === 'service' ? 'server-child.ts' : 'baseline-bridge.ts', ['--expose-gc', ...(process.env.BENCH_SERVER_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])], pinned ? SERVER_CPU : undefined, ['ignore', log, 'inherit', 'ipc'], {
      ...process.env,
      GOOGLE_GEMINI_BASE_URL: liveUrl,
      BENCH_SERVER_ENV: JSON.stringify(settings),
    }),
  );
  closeSync(log); // the child holds its own descriptor
  const ready = await child.wait('ready', 30_000);
  return { child, url: ready.url };
}


async function measureLevel(load: LoadChild, liveUrl: string, calls: number, options: EndToEndOptions, pinned: boolean, bridge: BridgeKind): Promise<LevelResult> {
  const progress = options.onProgress ?? (() => {});
  const logFile = join(options.logDir ?? tmpdir(), `bench-${bridge}-${calls}.log`);
  const { child: server, url } = await startServer(liveUrl, logFile, pinned, {}, bridge);
  try {
    const idle = (await server.request({ type: 'memory' }, 'memory', 30_000)).memory;
    const ramp: RampResult = (await load.request({ type: 'ramp', serverUrl: url, calls, script: options.script }, 'ramped', 60_000 + calls * 200)).result;
    progress(`  ${bridge}, ${calls} calls: ${ramp.callsUp} up in ${ramp.rampMs} ms${ramp.failures > 0 ? `, ${ramp.failures} failed (${ramp.firstError})` : ''}; measuring`);
    await sleep(options.warmupMs);
    const profiling = bridge === 'service' && options.profileCalls === calls && options.profileFile !== undefined;
    if (profiling) await server.request({ type: 'profile-start' }, 'profile-started', 10_000);

    const machineBefore = machineTimes();
    server.send({ type: 'window-start' });
    await load.request({ type: 'window-start' }, 'window-started', 10_000);
    await sleep(options.measureMs);
    const serverWindow = server.request({ type: 'window-end' }, 'window', 10_000);
    const loadWindow = load.request({ type: 'window-end', graceMs: Math.min(1000, options.measureMs / 4) }, 'window', 30_000);
    const serverStats = await serverWindow;
    const machineAfter = machineTimes();
    const window: WindowResult = (await loadWindow).result;

    if (profiling) await server.request({ type: 'profile-stop', file: options.profileFile! }, 'profile-stopped', 60_000);
    const busy: ServerMemory = (await server.request({ type: 'memory' }, 'memory', 30_000)).memory;
    const hangup: HangupResult = (await load.request({ type: 'hangup' }, 'hung-up', 60_000)).result;
    const after = await memoryOnceCallsEnded(server);

    const upCalls = Math.max(1, ramp.callsUp);
    const machineBusyCores = ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * cpus().length;
    return {
      bridge,
      calls,
      callsUp: ramp.callsUp,
      rampMs: ramp.rampMs,
      callerToModelMs: window.callerToModelMs,
      modelToCallerMs: window.modelToCallerMs,
      interruptedToClearMs: window.interruptedToClearMs,
      streamStartToFirstAudioMs: window.streamStartToFirstAudioMs,
      server: {
        cpu: serverStats.cpu,
        cpuPerCallPercentOfCore: round((serverStats.cpu.cores / upCalls) * 100, 4),
        eventLoopDelay: serverStats.eventLoopDelay,
        gcPauses: serverStats.gcPauses,
        rssMiB: round(busy.rssBytes / MIB, 1),
        rssPerCallMiB: round((busy.rssBytes - idle.rssBytes) / upCalls / MIB, 3),
        heapPerCallMiB: round((busy.heapUsedBytes - idle.heapUsedBytes) / upCalls / MIB, 3),
        externalPerCallMiB: round((busy.externalBytes - idle.externalBytes) / upCalls / MIB, 3),
        rssAfterCallsGrowthMiB: round((after.rssBytes - idle.rssBytes) / MIB, 1),
        heapAfterCallsGrowthMiB: round((after.heapUsedBytes - idle.heapUsedBytes) / MIB, 1),
      },
      loadGenerator: { cpu: window.cpu, eventLoopDelay: window.eventLoopDelay },
      machineBusyCores: round(machineBusyCores, 2),
      backgroundCores: round(Math.max(0, machineBusyCores - serverStats.cpu.cores - window.cpu.cores), 2),
      attempts: 1,
      checks: {
        callerFramesMissing: window.callerFramesMissing,
        protocolViolations: window.protocolViolations,
        firstViolation: window.firstViolation,
        frameCountMismatches: hangup.frameCountMismatches,
        sessionsStillOpen: hangup.sessionsStillOpen,
        rampFailures: ramp.failures,
      },
    };
  } finally {
    server.send({ type: 'stop' });
    await server.exit(10_000);
  }
}

/** The server's memory (garbage collected) once its calls have all ended, or after 10 s of waiting for them. */
async function memoryOnceCallsEnded(server: ServerChild): Promise<ServerMemory> {
  const deadline = Date.now() + 10_000;
  while ((await server.request({ type: 'memory', settle: false }, 'memory', 30_000)).memory.activeCalls > 0 && Date.now() < deadline) await sleep(100);
  return (await server.request({ type: 'memory' }, 'memory', 30_000)).memory;
}

/** Both directions' p99 within the limit, every call set up. */
const withinLimit = (level: LevelResult, limitMs: number): boolean =>
  level.checks.rampFailures === 0 && level.callerToModelMs.p99 <= limitMs && level.modelToCallerMs.p99 <= limitMs;

/** The baseline is measured up to the first level where it fails calls or lags this much (it is a comparison only). */
const BASELINE_GIVE_UP_MS = 1_000;

export async function measureEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const progress = options.onProgress ?? (() => {});
  const pinned = options.pin !== false && canPin();
  const load = new Child<LoadCommand, LoadReply>('load generator', spawnNode('load-generator.ts', [], pinned ? LOAD_CPU : undefined, ['ignore', 'inherit', 'inherit', 'ipc']));
  const levels: LevelResult[] = [];
  const baseline: LevelResult[] = [];
  let stoppedBecause = `reached the ceiling of ${options.ceiling} calls`;
  try {
    const { liveUrl } = await load.wait('ready', 30_000);
    // A level disturbed by other processes is measured again once the machine is quiet; the least disturbed counts.
    const measure = async (calls: number, bridge: BridgeKind): Promise<LevelResult> => {
      let level = await measureLevel(load, liveUrl, calls, options, pinned, bridge);
      const patience = options.patience ?? new Patience(0);
      for (let attempt = 2; attempt <= (options.retries ?? 0) + 1 && level.backgroundCores > (options.backgroundLimitCores ?? Infinity) && patience.left > 0; attempt++) {
        progress(`  ${bridge}, ${calls} calls: other processes used ${level.backgroundCores} cores meanwhile; measuring again`);
        await waitForQuietMachine(patience, options.backgroundLimitCores ?? Infinity);
        const again = await measureLevel(load, liveUrl, calls, options, pinned, bridge);
        level = { ...(again.backgroundCores < level.backgroundCores ? again : level), attempts: attempt };
      }
      progress(
        `  ${bridge}, ${calls} calls: caller->model p99 ${level.callerToModelMs.p99} ms, model->caller p99 ${level.modelToCallerMs.p99} ms, ` +
          `server ${level.server.cpu.cores} cores, load generator ${level.loadGenerator.cpu.cores} cores`,
      );
      return level;
    };
    const plan = [...options.levels];
    for (let i = 0; i < plan.length; i++) {
      const calls = plan[i]!;
      const level = await measure(calls, 'service');
      levels.push(level);
      if (level.checks.rampFailures > 0) {
        stoppedBecause = `${level.checks.rampFailures} of ${calls} calls could not be set up`;
        break;
      }
      if (!withinLimit(level, options.latencyLimitMs)) {
        stoppedBecause = `p99 latency ${level.callerToModelMs.p99} ms caller → model, ${level.modelToCallerMs.p99} ms model → caller exceeded ${options.latencyLimitMs} ms at ${calls} calls`;
        break;
      }
      if (i === plan.length - 1) {
        const next = calls + options.searchStep;
        if (options.searchStep > 0 && next <= options.ceiling) plan.push(next);
      }
    }
    for (const calls of options.baselineLevels ?? []) {
      const level = await measure(calls, 'baseline');
      baseline.push(level);
      if (!withinLimit(level, BASELINE_GIVE_UP_MS)) break;
    }
  } finally {
    load.send({ type: 'exit' });
    await load.exit(10_000);
  }

  const best = levels.filter((level) => withinLimit(level, options.latencyLimitMs)).reduce<LevelResult | undefined>((top, level) => (top === undefined || level.calls > top.calls ? level : top), undefined);
  const over = levels.find((level) => !withinLimit(level, options.latencyLimitMs));
  const largest = levels.reduce<LevelResult | undefined>((top, level) => (top === undefined || level.calls > top.calls ? level : top), undefined);
  return {
    method:
      'real server (startService, real @google/genai SDK) in its own process; Twilio side and Live server in a load-generator process; loopback; ' +
      `caller frames every 20 ms per call; warm-up ${options.warmupMs} ms, window ${options.measureMs} ms; latencies are send-to-receive on the load generator's clock`,
    pinned,
    script: options.script,
    warmupMs: options.warmupMs,
    measureMs: options.measureMs,
    latencyLimitMs: options.latencyLimitMs,
    levels,
    baseline,
    capacity: {
      maxCallsWithinLimit: best?.calls ?? 0,
      firstCallsOverLimit: over?.calls ?? null,
      serverCoresAtMax: best?.server.cpu.cores ?? 0,
      callsPerCore: best === undefined || best.server.cpu.cores === 0 ? 0 : round(best.calls / best.server.cpu.cores, 0),
      cpuBoundCallsPerCore: largest === undefined || largest.server.cpu.cores === 0 ? 0 : round(largest.callsUp / largest.server.cpu.cores, 0),
      cpuBoundAtCalls: largest?.calls ?? 0,
      stoppedBecause,
    },
    profile: options.profileFile ?? null,
  };
}
