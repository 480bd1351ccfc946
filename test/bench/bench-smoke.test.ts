import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { EndToEndResult } from '../../bench/end-to-end/run-end-to-end.js';
import { capacityNote, renderPerformanceDoc } from '../../bench/performance-doc.js';
import type { BenchResults } from '../../bench/report.js';

/**
 * Keeps `npm run bench` working: runs it in smoke mode (tiny sizes, a few seconds) and checks that
 * results.json has every field. Nothing here looks at the figures: CI does not time anything.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
const out = join(dir, 'results.json');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;

/** Walks `path` ("a.b.0.c") and returns the value, or throws naming the first missing key. */
function at(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !(key in value)) throw new Error(`results.json has no ${path}`);
    value = (value as Json)[key];
  }
  return value;
}

const isNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);
/** Latency percentiles are null (NaN in JSON) only if no event of that kind fell in the window. */
const isNumberOrNull = (value: unknown): boolean => value === null || isNumber(value);

const COST_FIGURES = ['callerToModel', 'modelToCaller', 'resamplerUp', 'resamplerDown'].flatMap((path) => [`${path}.medianUs`, `${path}.minUs`]);
const QUALITY_FIGURES = ['callerToModel', 'modelToCaller'].flatMap((direction) =>
  [
    'passbandFlatnessDb',
    'rejectionMinDb',
    'thdPlusNDb.300',
    'thdPlusNDb.1000',
    'thdPlusNDb.3000',
    'groupDelayMs',
    'holdBackMs',
    'addedDelayMs',
    'chunkInvariance.maxDiff20ms',
    'chunkInvariance.maxDiffRandom',
  ].map((path) => `${direction}.${path}`),
);
const LEVEL_NUMBERS = [
  'calls',
  'callsUp',
  'rampMs',
  'server.cpu.wallMs',
  'server.cpu.cpuMs',
  'server.cpu.cores',
  'server.cpuPerCallPercentOfCore',
  'server.eventLoopDelay.p50Ms',
  'server.eventLoopDelay.p99Ms',
  'server.eventLoopDelay.maxMs',
  'server.rssMiB',
  'server.rssPerCallMiB',
  'server.heapPerCallMiB',
  'server.externalPerCallMiB',
  'server.gcPauses.count',
  'server.gcPauses.maxMs',
  'server.gcPauses.totalMs',
  'server.rssAfterCallsGrowthMiB',
  'server.heapAfterCallsGrowthMiB',
  'loadGenerator.cpu.cores',
  'loadGenerator.eventLoopDelay.p99Ms',
  'machineBusyCores',
  'backgroundCores',
  'attempts',
  'checks.callerFramesMissing',
  'checks.protocolViolations',
  'checks.frameCountMismatches',
  'checks.sessionsStillOpen',
  'checks.rampFailures',
];
const LATENCIES = ['callerToModelMs', 'modelToCallerMs', 'interruptedToClearMs', 'streamStartToFirstAudioMs'];
const MEMORY_FIGURES = ['baselineRssMiB', 'baselineHeapMiB', 'peakRssGrowthMiB', 'peakHeapGrowthMiB', 'afterRssGrowthMiB', 'afterHeapGrowthMiB'].map((figure) => `memory.${figure}`);
const STREAM_ABUSE_FIGURES = ['framesSent', 'claimedSeconds', 'modelAudioSeconds', 'modelAudioFirstSecondSeconds', 'wallSeconds', 'health.maxMs', 'health.failures', ...MEMORY_FIGURES];

describe('npm run bench -- --smoke', () => {
  it('runs and writes every figure to results.json', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toContain('Audio path cost');
    expect(stdout).toContain('End to end');
    expect(stdout).toContain('Targets:');
    expect(stdout).toContain('Abuse (');

    const results = JSON.parse(readFileSync(out, 'utf8')) as Json;
    expect(at(results, 'mode')).toBe('smoke');
    for (const path of ['cpuModel', 'node', 'platform', 'date']) expect(typeof at(results, `machine.${path}`), path).toBe('string');
    for (const path of ['cores', 'totalMemoryGiB', 'loadAverage1m', 'backgroundBusyCores']) expect(isNumber(at(results, `machine.${path}`)), path).toBe(true);
    expect(isNumber(at(results, 'durationSeconds'))).toBe(true);

    for (const candidate of ['ours', 'naive', 'libsamplerate']) {
      for (const path of COST_FIGURES) expect(isNumber(at(results, `audioCost.${candidate}.${path}`)), `${candidate}.${path}`).toBe(true);
      for (const path of QUALITY_FIGURES) expect(isNumber(at(results, `audioQuality.${candidate}.${path}`)), `${candidate}.${path}`).toBe(true);
      expect(at(results, `audioQuality.${candidate}.callerToModel.passbandGainsDb`)).toHaveLength(6);
      for (const f of ['1000', '3000']) expect(isNumber(at(results, `audioQuality.${candidate}.callerToModel.rejectionAtDb.${f}`))).toBe(true);
      for (const f of ['5000', '9000']) expect(isNumber(at(results, `audioQuality.${candidate}.modelToCaller.rejectionAtDb.${f}`))).toBe(true);
    }
    for (const path of ['callerToModel', 'modelToCaller']) expect(isNumber(at(results, `audioCost.libsamplerateOverOurs.${path}`))).toBe(true);
    expect(isNumber(at(results, 'audioCost.backgroundCores'))).toBe(true);

    const levels = at(results, 'endToEnd.levels') as unknown[];
    const baseline = at(results, 'endToEnd.baseline') as unknown[];
    expect(levels.length).toBeGreaterThan(0);
    expect(baseline.length).toBeGreaterThan(0);
    expect(levels.map((level) => at(level, 'bridge'))).toEqual(levels.map(() => 'service'));
    expect(baseline.map((level) => at(level, 'bridge'))).toEqual(baseline.map(() => 'baseline'));
    expect(stdout).toContain('Side by side');
    [...levels, ...baseline].forEach((level, i) => {
      for (const path of LEVEL_NUMBERS) expect(isNumber(at(level, path)), `levels.${i}.${path}`).toBe(true);
      for (const latency of LATENCIES) {
        expect(isNumber(at(level, `${latency}.count`)), `${latency}.count`).toBe(true);
        for (const p of ['p50', 'p99', 'max']) expect(isNumberOrNull(at(level, `${latency}.${p}`)), `${latency}.${p}`).toBe(true);
      }
      // The benchmark's own consistency checks: every frame matched, the protocol followed.
      expect(at(level, 'callsUp')).toBe(at(level, 'calls'));
      expect(at(level, 'checks.protocolViolations')).toBe(0);
      expect(at(level, 'checks.frameCountMismatches')).toBe(0);
    });
    for (const path of ['maxCallsWithinLimit', 'serverCoresAtMax', 'callsPerCore', 'cpuBoundCallsPerCore', 'cpuBoundAtCalls']) expect(isNumber(at(results, `endToEnd.capacity.${path}`)), path).toBe(true);
    expect(typeof at(results, 'endToEnd.capacity.stoppedBecause')).toBe('string');
    expect(typeof at(results, 'endToEnd.pinned')).toBe('boolean');

    // Turn detection over the corpus: every detector's figures, the sweep and the cost.
    const detectors = at(results, 'turnDetection.detectors') as unknown[];
    expect(detectors).toHaveLength(4);
    detectors.forEach((detector, i) => {
      for (const latency of ['pauseLatencyMs', 'cutLatencyMs', 'turnOnsetMs', 'endOfTurnDelayMs']) {
        expect(isNumber(at(detector, `${latency}.count`)), `detectors.${i}.${latency}`).toBe(true);
        for (const p of ['p50', 'p95', 'max']) expect(isNumberOrNull(at(detector, `${latency}.${p}`)), `detectors.${i}.${latency}.${p}`).toBe(true);
      }
      for (const path of ['sentencesOverAgent', 'missedBargeIns', 'missedNormalLevel', 'sentencesResumed', 'backchannels', 'backchannelsPaused', 'backchannelsCut', 'falseElsewhere.pauses', 'falseElsewhere.cuts', 'missedTurns', 'turns', 'splitTurns']) {
        expect(isNumber(at(detector, path)), `detectors.${i}.${path}`).toBe(true);
      }
      for (const condition of ['echo −30 dB', 'pink 20 dB SNR']) expect(isNumber(at(detector, `falsePausesPerMinute.${condition}`)), condition).toBe(true);
    });
    expect((at(results, 'turnDetection.minBargeInSweep') as unknown[]).length).toBeGreaterThan(0);
    for (const path of ['cpuUs', 'corePercentPerCall']) expect(isNumber(at(results, `turnDetection.cost.modelPerWindow.0.${path}`)), path).toBe(true);
    for (const path of ['corePercentPerCall', 'rowsPerRun', 'skippedShare']) expect(isNumber(at(results, `turnDetection.cost.service.0.${path}`)), path).toBe(true);
    expect(isNumber(at(results, 'turnDetection.cost.backgroundCores'))).toBe(true);
    for (const path of ['callerNormal', 'echo.echo −30 dB']) expect(isNumber(at(results, `turnDetection.windowScores.${path}`)), path).toBe(true);
    expect(stdout).toContain('Turn detection');
    // The same as calls through the real server: both detectors, one barge-in scene in a smoke run.
    const figures = at(results, 'turnTakingEndToEnd.figures') as unknown[];
    expect(figures.map((f) => at(f, 'detector'))).toEqual(['energy', 'neural']);
    figures.forEach((figure, i) => {
      for (const latency of ['clearLatencyMs', 'cutLatencyMs', 'pauseGapMs', 'resumeRepeatedMs', 'turnOnsetMs', 'endOfTurnDelayMs']) {
        expect(isNumber(at(figure, `${latency}.count`)), `figures.${i}.${latency}`).toBe(true);
        for (const p of ['p50', 'p95', 'max']) expect(isNumberOrNull(at(figure, `${latency}.${p}`)), `figures.${i}.${latency}.${p}`).toBe(true);
      }
      for (const path of ['sentencesOverAgent', 'missedBargeIns', 'missedNormalLevel', 'backchannels', 'backchannelsPaused', 'backchannelsCut', 'missedTurns', 'turns', 'splitTurns', 'corePercentPerCall', 'addedCorePercentPerCall']) {
        expect(isNumber(at(figure, path)), `figures.${i}.${path}`).toBe(true);
      }
      expect(at(figure, 'sentencesOverAgent')).toBe(1);
    });
    for (const path of ['calls', 'callSeconds', 'modelDetectionCorePercentPerCall', 'backgroundCores']) expect(isNumber(at(results, `turnTakingEndToEnd.${path}`)), path).toBe(true);
    expect(stdout).toContain('Local turn detection end to end');
    // Who answered: every detector's figures on one scene of each kind.
    const answering = at(results, 'answeringMachine.detectors') as unknown[];
    expect(answering.map((d) => at(d, 'detector'))).toEqual(['combined', 'ours', 'twilio', 'late-transcript']);
    answering.forEach((detector, i) => {
      for (const path of ['accuracyPercent', 'correct', 'scenes', 'byAnswer.human.scenes', 'byAnswer.fax.correct', 'verdictMs.p50', 'voicemailsCut']) expect(isNumber(at(detector, path)), `answeringMachine.${i}.${path}`).toBe(true);
    });
    expect(at(results, 'answeringMachine.scenes')).toBe(4);
    expect(stdout).toContain('Who answered');
    for (const run of ['timestampSteps', 'burst', 'browserTimestampSteps']) {
      for (const path of STREAM_ABUSE_FIGURES) expect(isNumber(at(results, `abuse.${run}.${path}`)), `abuse.${run}.${path}`).toBe(true);
    }
    for (const path of ['connections', 'refusedAtOnce', 'stillOpen', 'health.maxMs', ...MEMORY_FIGURES]) expect(isNumber(at(results, `abuse.slowHeaders.${path}`)), `abuse.slowHeaders.${path}`).toBe(true);

    for (const path of ['waveformMs', 'waveformHeapGrowthMiB', 'waveformJsonKiB', 'recordKiB', 'historyInsertMs', 'historyGetMs']) expect(isNumber(at(results, `callInspector.${path}`)), path).toBe(true);
    expect(stdout).toContain('Call inspector');

    // docs/performance.md as a full run writes it: the run's tables and the scale on paper from its figures.
    const page = renderPerformanceDoc(results as unknown as BenchResults);
    for (const heading of ['# Audio quality and performance', '## Scale on paper', 'Side by side', '10,000 concurrent calls', 'Redis commands a second']) expect(page).toContain(heading);
    // A full run's 200-call level, ours and the baseline's, says how far calls per core is from the target.
    const e2e = at(results, 'endToEnd') as EndToEndResult;
    const as200 = <T extends { calls: number }>(level: T): T => ({ ...level, calls: 200 });
    const note = capacityNote({ ...e2e, levels: e2e.levels.map(as200), baseline: e2e.baseline.map(as200) }).join('\n');
    expect(note.replace(/\s+/g, ' ')).toMatch(/^- Calls per core: .* the popular samples' bridge/);
    for (const line of note.split('\n')) expect(line.length).toBeLessThanOrEqual(118);

    const targets = at(results, 'targets') as Array<{ name: string; target: string; value: string; met: boolean | null }>;
    expect(targets.length).toBe(25);
    for (const target of targets) {
      expect(typeof target.name).toBe('string');
      expect(typeof target.value).toBe('string');
      expect([true, false, null]).toContain(target.met);
    }
  }, 180_000);
});
