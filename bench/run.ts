/**
 * `npm run bench`: audio path cost and quality side by side with the alternatives, then the real
 * server under N simultaneous calls, side by side with the popular samples' way. Prints markdown tables, writes
 * every figure to bench/results.json and, for a full run with the default levels, writes docs/performance.md.
 *
 *   npm run bench                     full run, several minutes
 *   npm run bench -- --smoke          tiny sizes, seconds; checks the benchmark works (CI)
 *   npm run bench -- --out FILE       write the results elsewhere
 *   npm run bench -- --levels 1,100   only these end-to-end levels, no upward search
 *   npm run bench -- --profile 200    CPU-profile the server during the 200-call window (item 4)
 *
 * The fleet capacity alone: npx tsx bench/fleet-capacity-run.ts [--smoke]; turn detection alone:
 * npx tsx bench/turn-detection-run.ts [--smoke] (offline over the corpus, then as calls through the real server); the
 * abuse cases alone: npx tsx bench/abuse-run.ts [--smoke]; who answered an outbound call alone:
 * npx tsx bench/answering-machine-run.ts [--smoke].
 * BENCH_SMOKE=1 is the same as --smoke. Nothing here asserts on timings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FULL_ABUSE_OPTIONS, measureAbuse, SMOKE_ABUSE_OPTIONS } from './abuse.js';
import { measureAnsweringMachine } from './answering-machine.js';
import { FULL_CALL_INSPECTOR_OPTIONS, measureCallInspector, SMOKE_CALL_INSPECTOR_OPTIONS } from './call-inspector.js';
import { FULL_COST_OPTIONS, SMOKE_COST_OPTIONS, measureAudioCost } from './audio-cost.js';
import { FULL_QUALITY_OPTIONS, SMOKE_QUALITY_OPTIONS, measureAudioQuality } from './audio-quality.js';
import { FULL_SCRIPT, SMOKE_SCRIPT } from './end-to-end/common.js';
import { measureEndToEnd, type EndToEndOptions } from './end-to-end/run-end-to-end.js';
import { measureFailover } from './failover.js';
import { FULL_FLEET_CAPACITY_OPTIONS, SMOKE_FLEET_CAPACITY_OPTIONS, measureFleetCapacity } from './fleet-capacity.js';
import { machineInfo, Patience, waitForQuietMachine, withBackground } from './machine.js';
import { renderPerformanceDoc } from './performance-doc.js';
import { summarizeProfile } from './profile-summary.js';
import { checkTargets, renderReport, type BenchResults } from './report.js';
import { round } from './stats.js';
import { FULL_TURN_DETECTION_OPTIONS, SMOKE_TURN_DETECTION_OPTIONS, measureTurnDetection } from './turn-detection.js';
import { FULL_TURN_TAKING_E2E_OPTIONS, SMOKE_TURN_TAKING_E2E_OPTIONS, measureTurnTakingEndToEnd } from './turn-taking-e2e.js';

const HERE = dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' },
    out: { type: 'string' },
    levels: { type: 'string' },
    profile: { type: 'string' },
  },
});
const smoke = values.smoke === true;
const out = values.out ?? (smoke ? join(tmpdir(), 'bench-results-smoke.json') : join(HERE, 'results.json'));
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const fixedLevels = values.levels?.split(',').map(Number) ?? (smoke ? [2] : [1, 50, 100, 200]);
const profileCalls = values.profile === undefined ? undefined : Number(values.profile);
const e2eOptions: EndToEndOptions = smoke
  ? { levels: fixedLevels, baselineLevels: fixedLevels, searchStep: 0, ceiling: Math.max(...fixedLevels), latencyLimitMs: 20, warmupMs: 800, measureMs: 1600, script: SMOKE_SCRIPT }
  : {
      levels: profileCalls === undefined ? fixedLevels : [profileCalls],
      baselineLevels: profileCalls === undefined ? [1, 50, 100, 200] : [],
      searchStep: values.levels !== undefined || profileCalls !== undefined ? 0 : 100,
      ceiling: 2000,
      latencyLimitMs: 20,
      warmupMs: 3000,
      measureMs: 8000,
      script: FULL_SCRIPT,
      backgroundLimitCores: 0.2,
      retries: 2,
    };
if (profileCalls !== undefined) {
  e2eOptions.profileCalls = profileCalls;
  e2eOptions.profileFile = join(tmpdir(), `bench-server-${profileCalls}-calls.cpuprofile`);
}
e2eOptions.onProgress = progress;

const started = performance.now();
// On a shared machine, wait for other processes to quiet down, but never more than 2 minutes in all.
const patience = new Patience(smoke ? 0 : 120_000);
const onWait = (busy: number): void => progress(`waiting for a quiet machine (other processes use ${busy.toFixed(2)} cores)`);
const background = smoke ? 0 : await waitForQuietMachine(patience, 0.3, onWait);
e2eOptions.patience = patience;
const machine = machineInfo(background);

progress('audio path cost…');
// Timings taken while other processes compete for the 2 cores are redone once the machine is quiet.
let cost = await withBackground(() => measureAudioCost(smoke ? SMOKE_COST_OPTIONS : FULL_COST_OPTIONS));
for (let attempt = 2; !smoke && attempt <= 3 && cost.backgroundCores > 0.2; attempt++) {
  progress(`other processes used ${cost.backgroundCores} cores meanwhile; measuring again`);
  await waitForQuietMachine(patience, 0.2, onWait);
  if (patience.left === 0) break;
  const again = await withBackground(() => measureAudioCost(FULL_COST_OPTIONS));
  if (again.backgroundCores < cost.backgroundCores) cost = again;
}
const audioCost = { ...cost.value, backgroundCores: cost.backgroundCores };
progress('audio quality…');
const audioQuality = await measureAudioQuality(smoke ? SMOKE_QUALITY_OPTIONS : FULL_QUALITY_OPTIONS);
progress('end to end…');
if (!smoke) await waitForQuietMachine(patience, 0.3, onWait);
const endToEnd = await measureEndToEnd(e2eOptions);
progress('failover…');
const failover = await measureFailover({ runs: smoke ? 1 : 5, onProgress: progress });
progress('fleet capacity…');
if (!smoke) await waitForQuietMachine(patience, 0.3, onWait);
const fleetCapacity = await measureFleetCapacity({ ...(smoke ? SMOKE_FLEET_CAPACITY_OPTIONS : FULL_FLEET_CAPACITY_OPTIONS), onProgress: progress });
progress('turn detection…');
if (!smoke) await waitForQuietMachine(patience, 0.3, onWait);
const turnDetection = await measureTurnDetection(smoke ? SMOKE_TURN_DETECTION_OPTIONS : FULL_TURN_DETECTION_OPTIONS, smoke ? 'smoke' : 'full', progress);
progress('turn taking end to end…');
if (!smoke) await waitForQuietMachine(patience, 0.3, onWait);
const turnTakingEndToEnd = await measureTurnTakingEndToEnd(smoke ? SMOKE_TURN_TAKING_E2E_OPTIONS : FULL_TURN_TAKING_E2E_OPTIONS, smoke ? 'smoke' : 'full', progress);
progress('who answered…');
const answeringMachine = measureAnsweringMachine({ smoke });
progress('abuse…');
const abuse = await measureAbuse({ ...(smoke ? SMOKE_ABUSE_OPTIONS : FULL_ABUSE_OPTIONS), onProgress: progress });
progress('call inspector…');
const callInspector = await measureCallInspector(smoke ? SMOKE_CALL_INSPECTOR_OPTIONS : FULL_CALL_INSPECTOR_OPTIONS);

const results: BenchResults = {
  mode: smoke ? 'smoke' : 'full',
  machine,
  durationSeconds: round((performance.now() - started) / 1000, 0),
  audioCost,
  audioQuality,
  endToEnd,
  failover,
  fleetCapacity,
  turnDetection,
  turnTakingEndToEnd,
  answeringMachine,
  abuse,
  callInspector,
  targets: checkTargets(audioCost, audioQuality, endToEnd, turnDetection, turnTakingEndToEnd),
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
// A full run with the default levels is the page's source; a smoke run or a partial one writes no docs.
const docs = !smoke && values.out === undefined && values.levels === undefined && profileCalls === undefined;
if (docs) writeFileSync(join(HERE, '..', 'docs', 'performance.md'), renderPerformanceDoc(results));

process.stdout.write(`${renderReport(results)}\n\nResults: ${out}${docs ? ' and docs/performance.md' : ''} (${results.durationSeconds} s)\n`);
if (endToEnd.profile !== null) {
  const summary = summarizeProfile(endToEnd.profile, 30);
  process.stdout.write(`\nServer CPU profile ${endToEnd.profile} (idle ${summary.idlePercent} %), self time by module:\n`);
  for (const line of summary.modules) process.stdout.write(`  ${String(line.selfPercent).padStart(5)} %  ${line.name}\n`);
  process.stdout.write('by function:\n');
  for (const line of summary.functions) process.stdout.write(`  ${String(line.selfPercent).padStart(5)} %  ${line.name}\n`);
}
