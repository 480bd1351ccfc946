/**
 * docs/performance.md, written by `npm run bench` from its run: what is measured and how (fixed text), the run's
 * tables (report.ts), and the scale on paper for 10,000 concurrent calls computed from the measured figures.
 */
import type { EndToEndResult, LevelResult } from './end-to-end/run-end-to-end.js';
import type { FleetCapacityResult } from './fleet-capacity.js';
import { markdownTable as table } from './markdown.js';
import { CALLS_PER_CORE_TARGET, renderReport, type BenchResults } from './report.js';

/** The scale on paper is for this many calls at once. */
const TARGET_CONCURRENT_CALLS = 10_000;
/** Cores are planned at this share of what the benchmark found, for bursts, deploys and a lost instance. */
const PLANNING_HEADROOM = 0.7;
/** A single Redis (one core) runs this many simple commands a second, conservatively (redis-benchmark does 100k+). */
const REDIS_COMMANDS_PER_SECOND = 50_000;
const MIB_PER_GIB = 1024;

const fmt = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');

/** Markdown source wrapped at the page's width; `indent` starts the lines after the first (a list item's). */
function wrap(text: string, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > PAGE_WIDTH) {
      lines.push(line);
      line = indent + word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join('\n');
}

const PAGE_WIDTH = 118;

/** The level the capacity figure came from, else the largest measured. */
function capacityLevel(e2e: EndToEndResult): LevelResult | undefined {
  return e2e.levels.find((l) => l.calls === e2e.capacity.maxCallsWithinLimit) ?? e2e.levels.at(-1);
}

/** Instances, cores, memory and Redis for TARGET_CONCURRENT_CALLS, from the measured figures. */
export function scaleOnPaper(e2e: EndToEndResult, fleet: FleetCapacityResult | undefined): string[] {
  const level = capacityLevel(e2e);
  const callsPerCore = e2e.capacity.callsPerCore;
  if (level === undefined || callsPerCore <= 0) return ['No level within the latency limit was measured: nothing to scale from.'];
  const plannedPerCore = Math.floor(callsPerCore * PLANNING_HEADROOM);
  const cores = Math.ceil(TARGET_CONCURRENT_CALLS / plannedPerCore);
  const idleRssMiB = level.server.rssMiB - level.server.rssPerCallMiB * level.callsUp;
  const memoryGiB = (cores * idleRssMiB + TARGET_CONCURRENT_CALLS * level.server.rssPerCallMiB) / MIB_PER_GIB;
  const step = fleet?.steps.filter((s) => s.failedCalls === 0).at(-1);
  // A step's calls are up from their arrival to the hang-up: the ramp, Twilio's connect delay and the hold.
  const callSeconds = step === undefined || fleet === undefined ? undefined : step.calls / fleet.arrivalsPerSecond / 2 + fleet.streamConnectDelayMs / 1000 + fleet.holdMs / 1000;
  const redisPerCallSecond = step === undefined || callSeconds === undefined ? undefined : step.redisCommandsPerCall / callSeconds;
  const redisPerSecond = redisPerCallSecond === undefined ? undefined : redisPerCallSecond * TARGET_CONCURRENT_CALLS;
  const rows = [
    ['CPU per call (server, at the capacity level)', `${fmt(level.server.cpuPerCallPercentOfCore, 3)} % of a core (${level.calls} calls)`, 'end to end, this run'],
    ['calls per core with p99 ≤ 20 ms both ways', fmt(callsPerCore), 'end to end, this run'],
    [`planned calls per core (× ${PLANNING_HEADROOM} headroom)`, fmt(plannedPerCore), 'bursts, deploys (a drain doubles a node for a while), losing an instance'],
    ['instances (one Node process per core: one event loop each)', fmt(cores), `${fmt(TARGET_CONCURRENT_CALLS)} / ${plannedPerCore}`],
    ['memory', `${fmt(memoryGiB, 1)} GiB`, `${fmt(level.server.rssPerCallMiB, 3)} MiB per call + ${fmt(idleRssMiB)} MiB per idle instance`],
    ...(redisPerSecond === undefined || step === undefined
      ? []
      : [
          ['Redis commands per call', `${fmt(step.redisCommandsPerCall, 1)} over ~${fmt(callSeconds ?? 0)} s`, `fleet step of ${step.calls} calls (set-up, resumption handles, end; the proxy's health checks included)`],
          ['Redis commands a second', fmt(redisPerSecond), `${fmt(redisPerCallSecond ?? 0, 2)} per call-second × ${fmt(TARGET_CONCURRENT_CALLS)}: an upper bound, longer calls spread their set-up thinner`],
          ['Redis', `${Math.max(1, Math.ceil(redisPerSecond / REDIS_COMMANDS_PER_SECOND))} primary (+ a replica)`, `at ${fmt(REDIS_COMMANDS_PER_SECOND)} commands a second per Redis core, conservatively`],
        ]),
  ];
  return [
    `From this run's measured figures (a Node process uses one core for its calls, so an instance is a core):`,
    '',
    table(['', `${fmt(TARGET_CONCURRENT_CALLS)} concurrent calls`, 'from'], rows),
    '',
    wrap(
      'The server CPU here excludes the load generator and counts the kernel\'s loopback TCP on both ends of each ' +
        'socket; on real networks the receive side is another machine\'s, so these are conservative. Twilio and ' +
        'Gemini each take one WebSocket per call, so a node also needs file descriptors (2 per call) and ephemeral ' +
        'ports towards Gemini beyond 28,000 calls per source address.',
    ),
  ];
}

const INTRO = `# Audio quality and performance

\`npm run bench\` measures the audio path and the whole bridge side by side with the alternatives in the same run,
prints the tables below, writes every figure to \`bench/results.json\` (with the machine it ran on) and writes this
page from that run. \`npm run bench -- --smoke\` runs the same code at toy sizes in seconds (and writes neither);
\`test/bench\` does that in CI and checks the output's shape, never its timings.

## What is measured

- **Audio path cost**: µs per 20 ms frame through each direction as a call runs it (base64 text in and out),
  3000 distinct frames per run, median of 7 runs after 2 warm-ups ([audio DSP notes](audio-dsp.md) §6, §8.1 step 9).
  The resamplers' dot products run in WebAssembly SIMD with output bit for bit the same as the JavaScript they
  replaced (\`test/unit/audio/bit-exact.test.ts\`). The baselines are the naive approach of the popular samples
  (linear interpolation up, sample picking down) and libsamplerate-js \`SINC_MEDIUM\` streaming through \`full()\`
  with preallocated buffers, with the same base64 and mu-law plumbing as ours.
- **Audio quality**: the procedure of [audio DSP notes](audio-dsp.md) §8.1 (\`test/support/tone-analysis.ts\`) on each
  resampler. Added delay counts libsamplerate's hold-back; rejection above 120 dB reads 120.
- **End to end**: the real service (\`startService\`, the real \`@google/genai\` SDK) in its own process pinned to
  core 0; a load generator pinned to core 1 places calls the way Twilio does (signed webhook, signed upgrade,
  \`connected\`/\`start\`, 20 ms \`media\` frames at real time, marks echoed when their audio has played, \`clear\`)
  and serves the Live API (\`setupComplete\`, bursts of 200 ms \`modelTurn\` chunks at 4× real time, \`interrupted\`,
  \`turnComplete\`, resumption handles). Audio is counted in bytes both ways, so a bridge sending frames or whole
  chunks is timed alike. Latencies are send-to-receive on the load generator's clock (two loopback hops and its own
  scheduling included). Levels 1, 50, 100 and 200 calls, then up by 100 until p99 either way exceeds 20 ms. The
  server reports its own CPU, event-loop delay, garbage-collection pauses (every kind, from \`PerformanceObserver\`)
  and memory (RSS, heap, and external: Buffers outside the heap) per call. Levels disturbed by other processes
  (last column) are measured again while the run's two minutes of patience last.
- **Side by side**: \`bench/end-to-end/baseline-bridge.ts\`, a bridge written the way the popular samples are
  (the SDK's \`sendRealtimeInput\` per frame, \`JSON.parse\` per message, linear-interpolation resampling, alawmulaw,
  one \`media\` message per model chunk, \`clear\` on \`interrupted\`, no marks), under the same load generator and
  pinning, benchmark only. It does less than the service (no framing, marks, barge-in accounting, policing, watchdog,
  resumption, logs or metrics); the ratios say what all that costs, and whether our latency holds up against it.

Latest run:

`;

const READING = `## Reading the numbers

- CPU per call is the server process's own (user + system) over the window, so it includes the kernel's loopback
  TCP: one write per \`realtimeInput\` and per Twilio \`media\` batch, one read per caller frame. In the profile
  (\`npm run bench -- --profile 200\`, then \`npx tsx bench/profile-summary.ts FILE\`) the socket writes (\`writeBuffer\`,
  \`writev\`: the kernel's loopback TCP, about a quarter of the server's CPU at 200 calls) are the largest single
  entry; JavaScript's share is spread thin over \`ws\` framing, the Twilio stream, the call and the DSP.
- What this work removed from the per-frame path, each step measured in its commit: the SDK's converters and
  second parse of every Live frame (realtimeInput is written as the SDK writes it; each frame is parsed once), the
  base64 strings of held caller audio on the JavaScript heap (now pooled byte blocks outside it), per-frame call
  events nobody listens to (built only for a listener that reads them), and half of the DSP time (SIMD kernels).
- \`ws\` masks every frame a client sends (RFC 6455 §5.3), and unmasks every frame a server receives, byte by byte in
  JavaScript unless \`bufferutil\` is installed (Node 20 has no built-in mask): 3.6 µs for one 1.8 KB \`realtimeInput\`
  against 0.14 µs. It is an optional peer dependency, installed here for the benchmark and the tests; a deployment
  adds it ([deployment](deployment.md)); without it, or where no prebuilt binary fits, \`ws\` uses its own loop.
  \`realtimeInput\` is built as the frame's bytes, so \`ws\` masks it straight into the frame and writes once.
- Two earlier runs of the audio path on the same kind of machine gave 5.1 / 8.8 and 6.6 / 11.6 µs per frame: mostly
  other processes' load (the benchmark now records it and measures again when the machine was busy), plus a small
  real regression from a refactor of the resamplers' plumbing (pinned, min of runs: 2.22 → 2.32 µs in, 5.00 → 5.48 µs
  out), since gone with the SIMD kernels. The call event stream is not on that path: the audio-cost benchmark runs
  the DSP alone.
- p99 latency beyond a certain load is set by stalls of the server's event loop (garbage collection and bursts of
  work), not by its average load: the GC and event-loop columns show them.
- Runs on this shared machine vary: other processes' load is in each table (last column), and levels disturbed
  beyond 0.2 cores are retried. Instruction counts (valgrind) in the commit messages are the repeatable figures.
`;

const TAIL = `
## Abuse

\`npm run bench\` also measures what one hostile client costs (\`bench/abuse.ts\`; alone: \`npx tsx bench/abuse-run.ts\`):
the model audio a media stream claiming more audio than time allows gets through, \`/healthz\` latency meanwhile, and
the server's RSS and heap, at their peak and once the call has ended ([security](security.md#measured) has the
limits). The end-to-end table's "after the calls" column is the same measure for ordinary calls.

## A fleet: failover and capacity

Two fleet benchmarks (2 instances behind the committed HAProxy config, real Redis, the fake Live server
(\`test/fakes/gemini-live\`) and fake Twilio in the benchmark's process; \`bench/failover-run.ts\` and
\`bench/fleet-capacity-run.ts\` run either alone). For calls per fleet the instances, HAProxy and Redis are pinned to
one core and the load generator to the other, so the generator's cost is its own (its cores are in the table).

## Turn detection

Local turn detection over the caller-audio corpus (\`turnDetection\` in \`bench/results.json\`), then the same corpus as
calls through the real server (\`turnTakingEndToEnd\`; \`npx tsx bench/turn-detection-run.ts\` runs both alone). The
neural VAD's extra cost per call is on its own line above; the tables and what they mean:
[turn taking](turn-taking.md#what-it-measures).

## Who answered

\`npm run bench\` also runs the answering-machine corpus (\`answeringMachine\` in \`bench/results.json\`;
\`npx tsx bench/answering-machine-run.ts\` alone, \`--scenes\` for each scene's outcome): how often the combined
detector, our signals alone and Twilio's verdict alone (as its documented rule describes it) get a person, a
machine, a screener and a fax right, and how long each takes. The table is above; its assumptions and what it does
not show: [outbound](outbound.md#measured).
`;

/** How far this run's calls per core is from the target, measured against the baseline bridge's CPU in the same run. */
export function capacityNote(e2e: EndToEndResult): string[] {
  const ours = e2e.levels.find((l) => l.calls === CAPACITY_COMPARISON_CALLS);
  const baseline = e2e.baseline.find((l) => l.calls === CAPACITY_COMPARISON_CALLS);
  if (ours === undefined || baseline === undefined) return [];
  const cpuBound = (l: LevelResult): number => 100 / l.server.cpuPerCallPercentOfCore;
  const met = e2e.capacity.callsPerCore >= CALLS_PER_CORE_TARGET;
  const note =
    `- Calls per core: ${fmt(e2e.capacity.callsPerCore)} against the target of ${CALLS_PER_CORE_TARGET} (${met ? 'met' : 'not met'}). At ` +
      `${CAPACITY_COMPARISON_CALLS} calls the server used ${fmt(ours.server.cpuPerCallPercentOfCore, 3)} % of a core per call, which ` +
      `allows ${fmt(cpuBound(ours))} calls per core on CPU alone; the popular samples' bridge, doing far less, used ` +
      `${fmt(baseline.server.cpuPerCallPercentOfCore, 3)} % (${fmt(cpuBound(baseline))} per core) under the same load. ` +
      'Every bridge pays per 20 ms frame one socket read from Twilio, one masked WebSocket write to the model and their ' +
      `system calls; on this virtual machine's loopback those alone are about a quarter of the server's CPU.${met ? '' : ` ${BEYOND_NODE}`}`;
  return [wrap(note, '  '), ''];
}

const CAPACITY_COMPARISON_CALLS = 200;
const BEYOND_NODE =
  'More calls per core would need fewer system calls per frame (which costs latency: two frames per write add 20 ms) ' +
  'or a WebSocket stack outside JavaScript (uWebSockets.js, or a native media relay that hands the Node process ' +
  'only turn-level events); the JavaScript left on the path is a flat tail of small costs, none above a few per cent.';

/** The whole page for one full run. */
export function renderPerformanceDoc(results: BenchResults): string {
  const e2e = results.endToEnd;
  return [
    `${INTRO}${renderReport(results)}\n`,
    READING + capacityNote(e2e).join('\n'),
    '## Scale on paper\n',
    scaleOnPaper(e2e, results.fleetCapacity).join('\n'),
    TAIL,
  ].join('\n');
}
