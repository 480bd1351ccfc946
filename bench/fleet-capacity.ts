/**
 * Calls per 2-instance fleet on this machine: two real instances (child processes, src/main.ts) behind the real
 * HAProxy with the committed configuration and a real Redis (test/support/fleet.ts), the fake Gemini Live server and
 * the fake Twilio calls in this process. Concurrent calls rise in steps; in each step the calls arrive at a steady
 * rate, each streams caller audio in real time (20 ms frames, silence between utterances), is greeted, and says
 * "Hello?" every few seconds, which the model answers; the step holds all its calls up together for a window, then
 * hangs them all up.
 *
 * Per step:
 * - greeting delay: the server's own `streamStartToFirstAgentAudioMs` (its `call ended` log line, the figure behind
 *   phone_agent_stream_start_to_first_audio_seconds), p50 / p99 / max; and the same on the Twilio stream's clock;
 * - agent audio underruns: the caller's playout buffer (Twilio's, modelled by the fake) running dry inside an
 *   utterance, i.e. agent audio that came too late to play on time: how many and how many ms of dropout;
 * - CPU (cores) of each instance, of this process (load generator + fake Gemini) and of everything else on the
 *   machine (HAProxy, Redis, other processes), over the hold window;
 * - failed calls: no stream (refused), no greeting within 5 s, a stream closed by the server, a caller turn not
 *   answered within 5 s, a Twilio-side error, or no call summary from the server.
 *
 * "Calls per 2-instance fleet" is the largest step whose p99 server greeting delay stays within 20 ms (the end-to-end
 * benchmark's latency limit: the greeting is ready at the webhook, so the delay is the instance's own) with no
 * failed call; the run stops at the first step that misses. Where taskset and 2 cores exist, the fleet (instances,
 * HAProxy, Redis) runs on core 0 and the load generator with the fake Gemini on core 1, so the generator's own cost
 * never takes the fleet's CPU: the figure is a 2-instance fleet on one core. Redis commands per call are counted too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { FakeTwilioCall } from '../test/fakes/twilio/call.js';
import { loadSpeechFixture } from '../test/fakes/twilio/fixtures.js';
import { TEST_AUTH_TOKEN } from '../test/fakes/twilio/ids.js';
import type { FakeTwilioMediaStream } from '../test/fakes/twilio/media-stream.js';
import { FLEET_PUBLIC_URL, fleetGeminiOptions, startFleet, streamInstance, type Fleet } from '../test/support/fleet.js';
import { busyCores, machineTimes } from './machine.js';
import { round, summarize } from './stats.js';

export interface FleetCapacityOptions {
  /** Concurrent calls per step, rising. */
  steps: number[];
  /** New calls per second while a step ramps up. */
  arrivalsPerSecond: number;
  /** Twilio's delay from running `<Connect><Stream>` to opening the WebSocket. */
  streamConnectDelayMs: number;
  /** How long every call of a step stays up together once all are greeted. */
  holdMs: number;
  /** A caller says "Hello?" this long after the last agent audio played (± a quarter, at random). */
  turnPauseMs: number;
  /** p99 of the server's greeting delay must stay under this. */
  greetingLimitMs: number;
  /** Do not start a step that would end later than this after the start. */
  budgetMs: number;
  /** A quick check that the benchmark works (figures meaningless). */
  smoke?: boolean;
  onProgress?: (line: string) => void;
}

export const FULL_FLEET_CAPACITY_OPTIONS: FleetCapacityOptions = {
  steps: [25, 50, 100, 150, 200, 250, 300, 400, 500],
  arrivalsPerSecond: 25,
  streamConnectDelayMs: 1_000,
  holdMs: 8_000,
  turnPauseMs: 1_500,
  greetingLimitMs: 20,
  budgetMs: 225_000,
};

export const SMOKE_FLEET_CAPACITY_OPTIONS: FleetCapacityOptions = {
  steps: [4, 8],
  arrivalsPerSecond: 25,
  streamConnectDelayMs: 1_000,
  holdMs: 3_500,
  turnPauseMs: 300,
  greetingLimitMs: 20,
  budgetMs: 30_000,
  smoke: true,
};

export interface MsPercentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface FleetCapacityStep {
  calls: number;
  /** Calls that streamed and were greeted. */
  callsUp: number;
  failedCalls: number;
  /** A few of the failures, for the reader. */
  failures: string[];
  /** Calls each instance answered (stream URL), e.g. { 'agent-1': 50, 'agent-2': 50 }. */
  perInstance: Record<string, number>;
  greetingServerMs: MsPercentiles;
  greetingTwilioMs: MsPercentiles;
  /** Caller turns answered during the step, and end of caller speech → first answer audio (Twilio clock). */
  turnsAnswered: number;
  answerMs: MsPercentiles;
  /** Agent audio that arrived too late to play on time: playout underruns inside an utterance. */
  underruns: { count: number; callsAffected: number; dropoutMs: number; agentAudioSeconds: number };
  /** Redis commands the fleet ran for the step's calls (set-up, the hold, hang-up), per call. */
  redisCommandsPerCall: number;
  /** Cores over the hold window. */
  cpu: { instances: Record<string, number>; instancesTotal: number; loadGenerator: number; other: number; machineBusy: number; windowMs: number };
  durationMs: number;
}

export interface FleetCapacityResult {
  mode: 'full' | 'smoke';
  arrivalsPerSecond: number;
  streamConnectDelayMs: number;
  holdMs: number;
  greetingLimitMs: number;
  steps: FleetCapacityStep[];
  /** The largest step with p99 server greeting delay within the limit and no failed call (0: none). */
  callsPerFleet: number;
  stoppedBecause: string;
  /** Cores other processes kept busy just before the fleet started (this benchmark idle). */
  backgroundCoresAtStart: number;
  /**
   * The fleet (both instances, HAProxy, Redis) pinned to core 0 and the load generator with the fake Gemini (this
   * process) to core 1 (taskset), so the generator has its own core budget; false where taskset or 2 cores are missing.
   */
  pinned: boolean;
  durationSeconds: number;
}

const IDS = ['agent-1', 'agent-2'];
const HELLO = loadSpeechFixture('short-hello');
/** Gaps in what the caller hears shorter than this are underruns inside an utterance; longer ones are between turns. */
const IN_UTTERANCE_GAP_MS = 400;
const CLK_TCK = 100;

export async function measureFleetCapacity(options: FleetCapacityOptions): Promise<FleetCapacityResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  // What other processes already keep busy: on 2 cores it decides how much is left for the fleet and the load.
  const backgroundCoresAtStart = round(await busyCores(1_000), 2);
  const fleet = await startFleet({
    // The configured cap (MAX_CONCURRENT_CALLS, 100 by default) is not what this measures.
    env: { MAX_CONCURRENT_CALLS: '5000', LOG_LEVEL: 'info' },
    // Closed sessions keep their audio: hundreds of calls per step would pile it up in this process.
    gemini: { ...fleetGeminiOptions(), keepClosedSessions: 0 },
  });
  const pinned = pinFleetApart();
  const summaries = collectCallSummaries(fleet);
  const steps: FleetCapacityStep[] = [];
  let callsPerFleet = 0;
  let stoppedBecause = `the last step (${options.steps.at(-1)} calls) was within the limits`;
  try {
    await warmUp(fleet);
    for (const calls of options.steps) {
      const estimateMs = (calls / options.arrivalsPerSecond) * 1000 + options.streamConnectDelayMs + options.holdMs + 6_000;
      if (performance.now() - started + estimateMs > options.budgetMs) {
        stoppedBecause = `the time budget (${options.budgetMs / 1000} s) left no room for ${calls} calls`;
        break;
      }
      const step = await runStep(fleet, calls, options, summaries);
      steps.push(step);
      progress(
        `fleet capacity ${calls} calls: ${step.failedCalls} failed, greeting (server) p50 ${step.greetingServerMs.p50} / p99 ${step.greetingServerMs.p99} ms, ` +
          `underruns ${step.underruns.count}, instances ${step.cpu.instancesTotal} cores, load generator ${step.cpu.loadGenerator} cores`,
      );
      if (step.failedCalls > 0) {
        stoppedBecause = `${step.failedCalls} of ${calls} calls failed at ${calls} calls (${step.failures[0] ?? ''})`;
        break;
      }
      if (!(step.greetingServerMs.p99 <= options.greetingLimitMs)) {
        stoppedBecause = `p99 greeting delay was ${step.greetingServerMs.p99} ms at ${calls} calls`;
        break;
      }
      callsPerFleet = calls;
    }
  } finally {
    summaries.stop();
    await fleet.close();
    if (pinned) execFileSync('taskset', ['-a', '-p', '-c', `0-${cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
  }
  return {
    mode: options.smoke === true ? 'smoke' : 'full',
    arrivalsPerSecond: options.arrivalsPerSecond,
    streamConnectDelayMs: options.streamConnectDelayMs,
    holdMs: options.holdMs,
    greetingLimitMs: options.greetingLimitMs,
    steps,
    callsPerFleet,
    stoppedBecause,
    backgroundCoresAtStart,
    pinned,
    durationSeconds: round((performance.now() - started) / 1000, 0),
  };
}

async function warmUp(fleet: Fleet): Promise<void> {
  // A fresh process compiles its call path on its first call: start-up cost, not capacity.
  for (let i = 0; i < IDS.length * 2; i++) {
    const call = await dial(fleet, 0);
    await call.stream?.waitForAgentAudio({ timeoutMs: 10_000 });
    await call.stream?.waitForPlayoutIdle(10_000);
    await call.hangUp();
  }
}

function dial(fleet: Fleet, streamConnectDelayMs: number): Promise<FakeTwilioCall> {
  return FakeTwilioCall.dial({ serverUrl: fleet.proxy.url, publicUrl: FLEET_PUBLIC_URL, authToken: TEST_AUTH_TOKEN, streamConnectDelayMs });
}

/** The server's call summaries (`call ended` log lines) by CallSid, read from the instances' output as it comes. */
function collectCallSummaries(fleet: Fleet): { get(callSid: string): Record<string, unknown> | undefined; stop(): void } {
  const byCallSid = new Map<string, Record<string, unknown>>();
  const detach: (() => void)[] = [];
  for (const instance of fleet.instances) {
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"call ended"')) continue;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed['msg'] === 'call ended' && typeof parsed['callSid'] === 'string') byCallSid.set(parsed['callSid'], parsed);
        } catch {
          // not a JSON line
        }
      }
    };
    instance.child.stdout?.on('data', onData);
    detach.push(() => instance.child.stdout?.off('data', onData));
  }
  return { get: (callSid) => byCallSid.get(callSid), stop: () => detach.forEach((f) => f()) };
}

/** CPU seconds a process has used so far (Linux /proc). */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

interface CallRun {
  call?: FakeTwilioCall;
  failure?: string;
  greetingTwilioMs?: number;
  answersMs: number[];
  done: Promise<void>;
}

const agentBytes = (stream: FakeTwilioMediaStream): number => stream.receivedMedia.reduce((total, m) => total + m.bytes.length, 0);

async function runStep(
  fleet: Fleet,
  calls: number,
  options: FleetCapacityOptions,
  summaries: { get(callSid: string): Record<string, unknown> | undefined },
): Promise<FleetCapacityStep> {
  const stepStarted = performance.now();
  const redisBefore = await redisCommandsProcessed(fleet);
  let stopping = false;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const pause = (ms: number): Promise<void> => Promise.race([sleep(ms), stopped]);

  const runs: CallRun[] = [];
  const greeted: Promise<void>[] = [];
  for (let i = 0; i < calls; i++) {
    const run: CallRun = { answersMs: [], done: Promise.resolve() };
    let markGreeted!: () => void;
    greeted.push(new Promise<void>((resolve) => (markGreeted = resolve)));
    run.done = (async () => {
      await sleep(Math.max(0, stepStarted + (i * 1000) / options.arrivalsPerSecond - performance.now()));
      try {
        const call = await dial(fleet, options.streamConnectDelayMs);
        run.call = call;
        if (call.streamCount !== 1) {
          run.failure = `no stream (${call.said.join(' ') || call.errors.join('; ') || call.describe()})`;
          return;
        }
        const stream = call.stream!;
        try {
          await stream.waitForAgentAudio({ timeoutMs: 5_000 });
        } catch {
          run.failure = 'no greeting within 5 s';
          return;
        }
        run.greetingTwilioMs = stream.firstAgentAudioAtMs! - stream.streamStartedAtMs!;
        markGreeted();
        // The caller talks until the step ends: a pause after the agent stops, "Hello?", the answer.
        while (!stopping) {
          await Promise.race([stream.waitForPlayoutIdle(10_000).catch(() => undefined), stopped]);
          await pause(options.turnPauseMs * (0.75 + Math.random() * 0.5));
          if (stopping) break;
          const before = agentBytes(stream);
          const playback = await stream.playCallerAudio(HELLO);
          if (stopping || !playback.complete) break;
          const speechEnd = playback.lastFrameAtMs! + 20;
          const answered = await Promise.race([
            stream.waitFor((s) => agentBytes(s) > before, 5_000, 'an answer').then(() => true, () => false),
            stopped.then(() => undefined),
          ]);
          if (answered === undefined) break;
          if (!answered) {
            run.failure = 'a caller turn not answered within 5 s';
            return;
          }
          let total = 0;
          const first = stream.receivedMedia.find((m) => (total += m.bytes.length) > before)!;
          run.answersMs.push(first.atMs - speechEnd);
        }
      } catch (error) {
        run.failure = `dial failed: ${(error as Error).message}`;
      } finally {
        markGreeted();
      }
    })();
    runs.push(run);
  }

  await Promise.all(greeted);
  // Every call is up (or has failed): the hold window.
  const cpuBefore = fleet.instances.map((i) => processCpuSeconds(i.child.pid));
  const ownBefore = process.cpuUsage();
  const machineBefore = machineTimes();
  const windowStart = performance.now();
  await sleep(options.holdMs);
  const windowMs = performance.now() - windowStart;
  const cpuAfter = fleet.instances.map((i) => processCpuSeconds(i.child.pid));
  const own = process.cpuUsage(ownBefore);
  const machineAfter = machineTimes();

  const closedEarly = runs.filter((r) => r.failure === undefined && r.call?.stream?.closeInfo !== undefined);
  for (const r of closedEarly) r.failure = `stream closed by the server (${r.call!.stream!.closeInfo!.code} ${r.call!.stream!.closeInfo!.reason})`;
  stopping = true;
  stop();
  await Promise.all(runs.map((r) => r.done));
  await Promise.all(runs.map((r) => r.call?.hangUp().catch(() => undefined)));
  for (const r of runs) if (r.failure === undefined && (r.call?.errors.length ?? 0) > 0) r.failure = `Twilio side: ${r.call!.errors[0]}`;

  // The server logs each call's summary when it ends.
  const streamed = runs.filter((r) => r.call !== undefined && r.call.streamCount > 0);
  const deadline = performance.now() + 10_000;
  while (streamed.some((r) => summaries.get(r.call!.callSid) === undefined) && performance.now() < deadline) await sleep(100);
  const serverGreetings: number[] = [];
  for (const r of streamed) {
    const summary = summaries.get(r.call!.callSid);
    const ms = summary?.['streamStartToFirstAgentAudioMs'];
    if (typeof ms === 'number') serverGreetings.push(ms);
    else if (r.failure === undefined) r.failure = summary === undefined ? 'no call summary from the server' : 'the server logged no first agent audio';
  }

  let underruns = 0;
  let dropoutMs = 0;
  let affected = 0;
  let heardBytes = 0;
  for (const r of streamed) {
    const timeline = r.call!.stream!.heardTimeline;
    let mine = 0;
    for (let k = 1; k < timeline.length; k++) {
      const prev = timeline[k - 1]!;
      heardBytes += prev.bytes.length;
      const gap = timeline[k]!.atMs - (prev.atMs + prev.bytes.length / 8);
      if (gap > 0.5 && gap < IN_UTTERANCE_GAP_MS) {
        mine++;
        dropoutMs += gap;
      }
    }
    heardBytes += timeline.at(-1)?.bytes.length ?? 0;
    underruns += mine;
    if (mine > 0) affected++;
  }

  const perInstance: Record<string, number> = Object.fromEntries(IDS.map((id) => [id, 0]));
  for (const r of streamed) {
    const id = streamInstance(r.call!.streams[0]!.twiml.streamUrl);
    perInstance[id] = (perInstance[id] ?? 0) + 1;
  }
  const instanceCores = Object.fromEntries(fleet.instances.map((inst, k) => [inst.id, round((cpuAfter[k]! - cpuBefore[k]!) / (windowMs / 1000), 2)]));
  const instancesTotal = round(Object.values(instanceCores).reduce((a, b) => a + b, 0), 2);
  const loadGenerator = round((own.user + own.system) / 1000 / windowMs, 2);
  const machineBusy = ((machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total)) * cpus().length;
  const failed = runs.filter((r) => r.failure !== undefined);
  const answers = runs.flatMap((r) => r.answersMs);
  const pct = (values: number[]): MsPercentiles => {
    const s = summarize(values);
    return { p50: round(s.p50, 1), p99: round(s.p99, 1), max: round(s.max, 1) };
  };
  // Let the instances settle (calls closed, sessions gone) before the next step.
  await sleep(1_000);
  // Two commands of the count are this benchmark's own INFO.
  const redisCommands = (await redisCommandsProcessed(fleet)) - redisBefore - 2;
  return {
    calls,
    callsUp: runs.filter((r) => r.greetingTwilioMs !== undefined).length,
    failedCalls: failed.length,
    failures: [...new Set(failed.map((r) => r.failure!))].slice(0, 5),
    perInstance,
    greetingServerMs: pct(serverGreetings),
    greetingTwilioMs: pct(runs.flatMap((r) => (r.greetingTwilioMs === undefined ? [] : [r.greetingTwilioMs]))),
    turnsAnswered: answers.length,
    answerMs: pct(answers),
    underruns: { count: underruns, callsAffected: affected, dropoutMs: round(dropoutMs, 0), agentAudioSeconds: round(heardBytes / 8000, 0) },
    redisCommandsPerCall: round(redisCommands / Math.max(1, calls), 1),
    cpu: { instances: instanceCores, instancesTotal, loadGenerator, other: round(Math.max(0, machineBusy - instancesTotal - loadGenerator), 2), machineBusy: round(machineBusy, 2), windowMs: round(windowMs, 0) },
    durationMs: round(performance.now() - stepStarted, 0),
  };
}

/** Redis's count of commands it has run (INFO stats total_commands_processed). */
async function redisCommandsProcessed(fleet: Fleet): Promise<number> {
  const client = createClient({ url: fleet.redis.url });
  await client.connect();
  try {
    const info = await client.info('stats');
    return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  } finally {
    client.destroy();
  }
}

/**
 * Gives the load generator its own core budget: this process (fake Twilio calls, fake Gemini) to core 1, everything it
 * started (the instances, HAProxy, Redis, and their children) to core 0. Returns false where that cannot be done.
 */
function pinFleetApart(): boolean {
  if (cpus().length < 2) return false;
  try {
    const parents = new Map<number, number[]>();
    for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number) as [number, number];
      parents.set(ppid, [...(parents.get(ppid) ?? []), pid]);
    }
    const descendants: number[] = [];
    for (let queue = [...(parents.get(process.pid) ?? [])]; queue.length > 0; ) {
      const pid = queue.shift()!;
      descendants.push(pid);
      queue = [...queue, ...(parents.get(pid) ?? [])];
    }
    for (const pid of descendants) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
