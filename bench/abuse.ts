/**
 * What one hostile or broken client costs the service (docs/security.md): the service in its own process, one
 * abusive client at a time, and what it did to the model, the memory and `/healthz` meanwhile.
 *
 * - `timestampSteps`: one Twilio media stream, frames as fast as they go, each `media.timestamp` 10 s after the last.
 * - `burst`: one Twilio media stream, 120 s of audio (contiguous timestamps) sent at once.
 * - `browserTimestampSteps`: the first, through a browser phone session's stream.
 * - `slowHeaders`: connections from one other address (127.0.0.2) that send their headers a line a second.
 *
 * Model audio is what the Live server received. Memory is the server's: peaks sampled every 250 ms as they are, the
 * baseline and "after" once the calls ended and garbage was collected.
 */
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeGeminiLive, type FakeGeminiLive, type FakeSession } from '../test/fakes/gemini-live/server.js';
import { FakeTwilioMediaStream, parseConnectStreamTwiml, postVoiceWebhook } from '../test/fakes/twilio/index.js';
import { openBrowserPhoneCall } from '../test/support/browser-phone-call.js';
import { BENCH_ACCOUNT_SID, BENCH_AUTH_TOKEN, BENCH_GEMINI_KEY, BENCH_PUBLIC_URL, type ServerMemory } from './end-to-end/common.js';
import { startServer, type ServerChild } from './end-to-end/run-end-to-end.js';
import { round } from './stats.js';

const MIB = 1024 * 1024;
const BROWSER_PHONE_KEY = 'bench-browser-phone-key-0123456789';
const SILENT_PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');
/** Well under the default header timeout (10 s): a connection closed sooner was refused, not timed out. */
const REFUSED_WITHIN_MS = 3_000;

export interface AbuseOptions {
  /** Frames of each timestamp-step stream (the issue: 2,000). */
  stepFrames: number;
  /** Seconds of audio in the burst (the issue: 120). */
  burstSeconds: number;
  slowConnections: number;
  /** How long slow-header connections are watched. */
  slowObserveMs: number;
  /** Longest wait for a stream's effect on the model to settle. */
  settleTimeoutMs: number;
  /** Settled: no more model audio for this long (and before a stream's abuse, the call running this long). */
  quietMs: number;
  /** Run only these (default: all); the others are left out of the result. */
  only?: readonly AbuseKind[];
  /** Every run on one service, not a fresh one each (quicker; each run's baseline is then the last run's end). */
  oneService?: boolean;
  onProgress?: (line: string) => void;
}

export const FULL_ABUSE_OPTIONS: AbuseOptions = { stepFrames: 2_000, burstSeconds: 120, slowConnections: 2_000, slowObserveMs: 100_000, settleTimeoutMs: 60_000, quietMs: 1_500 };
export const SMOKE_ABUSE_OPTIONS: AbuseOptions = { stepFrames: 100, burstSeconds: 6, slowConnections: 20, slowObserveMs: 500, settleTimeoutMs: 5_000, quietMs: 300, oneService: true };

export interface MemoryFigures {
  baselineRssMiB: number;
  baselineHeapMiB: number;
  /** Highest sample during the run, minus the baseline. */
  peakRssGrowthMiB: number;
  peakHeapGrowthMiB: number;
  /** Once the calls ended and garbage was collected, minus the baseline. */
  afterRssGrowthMiB: number;
  afterHeapGrowthMiB: number;
}

export interface HealthFigures {
  maxMs: number;
  /** Probes that failed or took over 10 s. */
  failures: number;
  probes: number;
}

export interface StreamAbuseResult {
  framesSent: number;
  /** The stream's claimed audio (frames plus timestamp holes), seconds. */
  claimedSeconds: number;
  modelAudioSeconds: number;
  /** Model audio received within a second of the first frame: faster than real time, it is more than a second. */
  modelAudioFirstSecondSeconds: number;
  /** From the first frame sent until the model's input stopped growing (or the stream closed). */
  wallSeconds: number;
  /** How the server closed the stream, or null when it stayed open. */
  closeCode: number | null;
  health: HealthFigures;
  memory: MemoryFigures;
}

export interface SlowHeadersResult {
  connections: number;
  /** Closed by the server within REFUSED_WITHIN_MS of connecting: over a connection limit, not held to a timeout. */
  refusedAtOnce: number;
  /** Closed later: how long the server held them, ms. */
  heldMedianMs: number | null;
  heldMaxMs: number | null;
  stillOpenAfterMs: number;
  stillOpen: number;
  health: HealthFigures;
  memory: MemoryFigures;
}

/** Each run's figures (all of them unless `only` chose some). */
export interface AbuseResult {
  method: string;
  timestampSteps?: StreamAbuseResult;
  burst?: StreamAbuseResult;
  browserTimestampSteps?: StreamAbuseResult;
  slowHeaders?: SlowHeadersResult;
}

export type AbuseKind = 'timestampSteps' | 'burst' | 'browserTimestampSteps' | 'slowHeaders';

export async function measureAbuse(options: AbuseOptions): Promise<AbuseResult> {
  const progress = options.onProgress ?? (() => {});
  const runs: Record<AbuseKind, [string, (service: Service) => Promise<StreamAbuseResult | SlowHeadersResult>]> = {
    timestampSteps: ['timestamp steps (Twilio stream)', (service) => streamAbuse(service, 'twilio', stepFrames(options.stepFrames, 10_000), options)],
    burst: ['audio burst (Twilio stream)', (service) => streamAbuse(service, 'twilio', stepFrames(options.burstSeconds * 50, 20), options)],
    browserTimestampSteps: ['timestamp steps (browser phone stream)', (service) => streamAbuse(service, 'browser', stepFrames(options.stepFrames, 10_000), options)],
    slowHeaders: ['slow headers', (service) => slowHeaderAbuse(service, options)],
  };
  const result: Partial<Record<AbuseKind, StreamAbuseResult | SlowHeadersResult>> = {};
  const chosen = (Object.entries(runs) as Array<[AbuseKind, (typeof runs)[AbuseKind]]>).filter(([kind]) => options.only?.includes(kind) ?? true);
  const runOn = async (service: Service, [kind, [label, run]]: (typeof chosen)[number]): Promise<void> => {
    progress(`  ${label}…`);
    result[kind] = await run(service);
  };
  if (options.oneService === true) await withService(async (service) => { for (const entry of chosen) await runOn(service, entry); });
  else for (const entry of chosen) await withService((service) => runOn(service, entry));
  return {
    method:
      'the service alone in its own process (startService, real SDK) against the local Live server; one abusive client per run; ' +
      '/healthz probed every 50 ms from 127.0.0.1; memory sampled every 250 ms (peak) and after the calls ended (garbage collected)',
    ...(result as Omit<AbuseResult, 'method'>),
  };
}

interface Service {
  url: string;
  server: ServerChild;
  live: FakeGeminiLive;
}

async function withService<T>(run: (service: Service) => Promise<T>): Promise<T> {
  const live = await startFakeGeminiLive({ apiKey: BENCH_GEMINI_KEY });
  const logFile = join(tmpdir(), 'bench-abuse-server.log');
  // The default call capacity, so the connection limits are their defaults too (the load benchmark lifts both).
  const settings = { BROWSER_PHONE: '1', BROWSER_PHONE_KEY, LOG_LEVEL: 'warn', MAX_CONCURRENT_CALLS: '100' };
  const { child: server, url } = await startServer(live.baseUrl, logFile, false, settings);
  try {
    return await run({ url, server, live });
  } finally {
    server.send({ type: 'stop' });
    await server.exit(10_000);
    await live.close();
  }
}

/** `count` media timestamps, each `stepMs` after the last. */
function stepFrames(count: number, stepMs: number): number[] {
  return Array.from({ length: count }, (_, i) => i * stepMs);
}

async function streamAbuse(service: Service, kind: 'twilio' | 'browser', timestamps: number[], options: AbuseOptions): Promise<StreamAbuseResult> {
  const watch = await Watch.start(service);
  const sessionIndex = service.live.sessions.length; // a Twilio call's session opens at its webhook
  const stream = kind === 'twilio' ? await twilioStream(service.url) : await browserStream(service.url);
  const session = await service.live.waitForSession(sessionIndex, 10_000);
  await sleep(options.quietMs); // a call in progress: its model session set up and listening
  const before = session.receivedAudio16k.seconds;
  const startedAt = performance.now();
  timestamps.forEach((timestamp, i) => {
    stream.sendRaw(
      JSON.stringify({ event: 'media', sequenceNumber: String(i + 3), media: { track: 'inbound', chunk: String(i + 1), timestamp: String(timestamp), payload: SILENT_PAYLOAD }, streamSid: stream.streamSid }),
    );
  });
  const firstSecond = sleep(1_000).then(() => session.receivedAudio16k.seconds - before);
  const endedAt = await settled(service.url, session, startedAt, options);
  const modelAudioSeconds = session.receivedAudio16k.seconds - before;
  const closeCode = stream.closeInfo?.initiatedBy === 'server' ? stream.closeInfo.code : null;
  if (stream.isOpen) await stream.hangUp();
  const result = await watch.finish();
  return {
    framesSent: timestamps.length,
    claimedSeconds: round(((timestamps.at(-1) ?? 0) + 20) / 1000, 1),
    modelAudioSeconds: round(modelAudioSeconds, 1),
    modelAudioFirstSecondSeconds: round(await firstSecond, 1),
    wallSeconds: round((endedAt - startedAt) / 1000, 1),
    closeCode,
    ...result,
  };
}

/**
 * When the model's input stopped growing: unchanged for `quietMs` while the server answers `/healthz` promptly (a
 * server busy making audio answers nothing, and sends nothing either, for seconds).
 */
async function settled(url: string, session: FakeSession, startedAt: number, { settleTimeoutMs, quietMs }: AbuseOptions): Promise<number> {
  let last = -1;
  let lastChangeAt = performance.now();
  while (performance.now() - startedAt < settleTimeoutMs) {
    await sleep(100);
    const seconds = session.receivedAudio16k.seconds;
    if (seconds !== last) {
      last = seconds;
      lastChangeAt = performance.now();
    } else if (performance.now() - lastChangeAt >= quietMs && (await answersPromptly(url)) && session.receivedAudio16k.seconds === last) {
      break;
    }
  }
  return lastChangeAt;
}

async function answersPromptly(url: string): Promise<boolean> {
  const startedAt = performance.now();
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  await response?.arrayBuffer();
  return response?.ok === true && performance.now() - startedAt < 200;
}

async function twilioStream(url: string): Promise<FakeTwilioMediaStream> {
  const webhook = await postVoiceWebhook({ serverUrl: url, publicUrl: BENCH_PUBLIC_URL, authToken: BENCH_AUTH_TOKEN, params: { AccountSid: BENCH_ACCOUNT_SID } });
  const twiml = parseConnectStreamTwiml(webhook.body);
  return FakeTwilioMediaStream.connect({
    serverUrl: url.replace('http://', 'ws://'),
    streamUrl: twiml.streamUrl,
    authToken: BENCH_AUTH_TOKEN,
    accountSid: BENCH_ACCOUNT_SID,
    callSid: webhook.params.CallSid!,
    customParameters: twiml.parameters,
    continuousSilence: false,
  });
}

async function browserStream(url: string): Promise<FakeTwilioMediaStream> {
  return (await openBrowserPhoneCall(url, BROWSER_PHONE_KEY, { continuousSilence: false })).stream;
}

async function slowHeaderAbuse(service: Service, options: AbuseOptions): Promise<SlowHeadersResult> {
  const watch = await Watch.start(service);
  const { port } = new URL(service.url);
  const opened: Array<{ socket: Socket; openedAt: number; closedAt?: number }> = [];
  for (let i = 0; i < options.slowConnections; i++) {
    const entry: { socket: Socket; openedAt: number; closedAt?: number } = { socket: connect({ host: '127.0.0.1', port: Number(port), localAddress: '127.0.0.2' }), openedAt: performance.now() };
    entry.socket.on('error', () => undefined);
    entry.socket.on('close', () => (entry.closedAt ??= performance.now()));
    entry.socket.write('GET /healthz HTTP/1.1\r\nHost: bench\r\n');
    opened.push(entry);
    if (i % 100 === 99) await sleep(10); // let the server accept as they come
  }
  const trickle = setInterval(() => {
    for (const { socket } of opened) if (!socket.destroyed) socket.write('X-Slow: 1\r\n');
  }, 1_000);
  const deadline = performance.now() + options.slowObserveMs;
  while (performance.now() < deadline && opened.some((entry) => entry.closedAt === undefined)) await sleep(200);
  clearInterval(trickle);
  const held = opened.filter((entry) => entry.closedAt !== undefined).map((entry) => entry.closedAt! - entry.openedAt);
  const late = held.filter((ms) => ms > REFUSED_WITHIN_MS).sort((a, b) => a - b);
  const stillOpen = opened.filter((entry) => entry.closedAt === undefined).length;
  for (const { socket } of opened) socket.destroy();
  const result = await watch.finish();
  return {
    connections: opened.length,
    refusedAtOnce: held.length - late.length,
    heldMedianMs: late.length === 0 ? null : round(late[Math.floor(late.length / 2)]!, 0),
    heldMaxMs: late.length === 0 ? null : round(late.at(-1)!, 0),
    stillOpenAfterMs: options.slowObserveMs,
    stillOpen,
    ...result,
  };
}

/** `/healthz` latency and the server's memory while a run lasts. */
class Watch {
  private health: HealthFigures = { maxMs: 0, failures: 0, probes: 0 };
  private peak = { rssBytes: 0, heapUsedBytes: 0 };
  private running = true;
  private readonly loops: Promise<void>[];

  private constructor(
    private readonly service: Service,
    private readonly baseline: ServerMemory,
  ) {
    this.loops = [this.probeHealth(), this.sampleMemory()];
  }

  static async start(service: Service): Promise<Watch> {
    return new Watch(service, await memory(service.server, true));
  }

  async finish(): Promise<{ health: HealthFigures; memory: MemoryFigures }> {
    // The calls end (the server's end of each stream), then memory settles.
    const deadline = performance.now() + 10_000;
    while ((await memory(this.service.server, false)).activeCalls > 0 && performance.now() < deadline) await sleep(100);
    this.running = false;
    await Promise.all(this.loops);
    const after = await memory(this.service.server, true);
    const mib = (bytes: number): number => round(bytes / MIB, 1);
    return {
      health: { ...this.health, maxMs: round(this.health.maxMs, 0) },
      memory: {
        baselineRssMiB: mib(this.baseline.rssBytes),
        baselineHeapMiB: mib(this.baseline.heapUsedBytes),
        peakRssGrowthMiB: mib(Math.max(0, this.peak.rssBytes - this.baseline.rssBytes)),
        peakHeapGrowthMiB: mib(Math.max(0, this.peak.heapUsedBytes - this.baseline.heapUsedBytes)),
        afterRssGrowthMiB: mib(after.rssBytes - this.baseline.rssBytes),
        afterHeapGrowthMiB: mib(after.heapUsedBytes - this.baseline.heapUsedBytes),
      },
    };
  }

  private async probeHealth(): Promise<void> {
    while (this.running) {
      const startedAt = performance.now();
      try {
        const response = await fetch(`${this.service.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (!response.ok) this.health.failures++;
      } catch {
        this.health.failures++;
      }
      this.health.probes++;
      this.health.maxMs = Math.max(this.health.maxMs, performance.now() - startedAt);
      await sleep(50);
    }
  }

  private async sampleMemory(): Promise<void> {
    while (this.running) {
      const sample = await memory(this.service.server, false);
      this.peak = { rssBytes: Math.max(this.peak.rssBytes, sample.rssBytes), heapUsedBytes: Math.max(this.peak.heapUsedBytes, sample.heapUsedBytes) };
      await sleep(250);
    }
  }
}

async function memory(server: ServerChild, settle: boolean): Promise<ServerMemory> {
  return (await server.request({ type: 'memory', settle }, 'memory', 60_000)).memory;
}
