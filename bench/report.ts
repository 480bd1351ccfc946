/** The printed (markdown) tables and the target checks, from the results object. */
import type { AbuseResult, SlowHeadersResult, StreamAbuseResult } from './abuse.js';
import type { AudioCostResult, CandidateCost } from './audio-cost.js';
import type { AudioQualityResult, CandidateQuality } from './audio-quality.js';
import type { CallInspectorResult } from './call-inspector.js';
import type { EndToEndResult, LevelResult } from './end-to-end/run-end-to-end.js';
import type { FailoverResult } from './failover.js';
import type { FleetCapacityResult } from './fleet-capacity.js';
import type { MachineInfo } from './machine.js';
import { markdownTable as table } from './markdown.js';
import type { TurnDetectionResult } from './turn-detection.js';
import { turnDetectionSection, turnDetectionTargets, turnTakingEndToEndSection, turnTakingEndToEndTargets } from './turn-detection-report.js';
import type { TurnTakingE2eResult } from './turn-taking-e2e.js';
import type { AnsweringMachineResult } from './answering-machine.js';
import { answeringMachineSection } from './answering-machine-report.js';

export interface TargetCheck {
  name: string;
  target: string;
  value: string;
  /** null when the run did not measure it (e.g. the smoke run has no 100-call level). */
  met: boolean | null;
}

export interface BenchResults {
  mode: 'full' | 'smoke';
  machine: MachineInfo;
  durationSeconds: number;
  audioCost: AudioCostResult;
  audioQuality: AudioQualityResult;
  endToEnd: EndToEndResult;
  /** Two instances behind HAProxy, the one carrying a call killed (bench/failover.ts); absent in older results. */
  failover?: FailoverResult;
  /** Calls per 2-instance fleet: rising concurrent calls through HAProxy (bench/fleet-capacity.ts); absent in older results. */
  fleetCapacity?: FleetCapacityResult;
  /** Local turn detection over the caller-audio corpus (bench/turn-detection.ts); absent in older results. */
  turnDetection?: TurnDetectionResult;
  /** The same corpus as calls through the real server (bench/turn-taking-e2e.ts); absent in older results. */
  turnTakingEndToEnd?: TurnTakingE2eResult;
  /** Who answered an outbound call, on the answering-machine corpus (bench/answering-machine.ts); absent in older results. */
  answeringMachine?: AnsweringMachineResult;
  /** One hostile client at a time against the service (bench/abuse.ts); absent in older results. */
  abuse?: AbuseResult;
  /** The inspector's waveform and the history's record of a long call (bench/call-inspector.ts); absent in older results. */
  callInspector?: CallInspectorResult;
  targets: TargetCheck[];
}

const fmt = (value: number | null | undefined, digits = 1): string => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));

function costTable(cost: AudioCostResult): string {
  const row = (label: string, pick: (c: CandidateCost) => { medianUs: number; minUs: number }, target: string): string[] => [
    label,
    ...[cost.ours, cost.naive, cost.libsamplerate].map((c) => `${fmt(pick(c).medianUs, 2)} (${fmt(pick(c).minUs, 2)})`),
    target,
  ];
  return table(
    ['µs per 20 ms frame, median (min)', 'ours', 'naive (linear / picking)', 'libsamplerate-js SINC_MEDIUM', 'target (ours)'],
    [
      row('caller → model: base64, mu-law decode, ×2, PCM16, base64', (c) => c.callerToModel, `≤ ${CALLER_TO_MODEL_TARGET_US}`),
      row('model → caller: base64, ÷3, mu-law encode, base64', (c) => c.modelToCaller, `≤ ${MODEL_TO_CALLER_TARGET_US}`),
      row('resampler alone ×2 (Int16 in and out)', (c) => c.resamplerUp, ''),
      row('resampler alone ÷3 (Int16 in and out)', (c) => c.resamplerDown, ''),
      ['libsamplerate-js cost / ours, full pipelines', `${fmt(cost.libsamplerateOverOurs.callerToModel)}× in, ${fmt(cost.libsamplerateOverOurs.modelToCaller)}× out`, '', '', '≈ 20×'],
    ],
  );
}

function qualityTable(quality: AudioQualityResult): string {
  const candidates: CandidateQuality[] = [quality.ours, quality.naive, quality.libsamplerate];
  const both = (label: string, pick: (c: CandidateQuality['callerToModel']) => string, target: string): string[][] => [
    [`${label}, caller → model (×2)`, ...candidates.map((c) => pick(c.callerToModel)), target],
    [`${label}, model → caller (÷3)`, ...candidates.map((c) => pick(c.modelToCaller)), target],
  ];
  const chunk = (c: CandidateQuality['callerToModel']): string =>
    c.chunkInvariance.maxDiff20ms === 0 && c.chunkInvariance.maxDiffRandom === 0 && c.chunkInvariance.sameLength
      ? 'identical'
      : `differs (${c.chunkInvariance.maxDiff20ms} / ${c.chunkInvariance.maxDiffRandom} LSB${c.chunkInvariance.sameLength ? '' : ', lengths differ'})`;
  return table(
    ['docs/audio-dsp.md §8.1, −6 dBFS tones', 'ours', 'naive (linear / picking)', 'libsamplerate-js SINC_MEDIUM', 'target (ours)'],
    [
      ...both('passband deviation 100–3400 Hz, ±dB', (d) => fmt(d.passbandFlatnessDb, 3), '≤ 0.1'),
      ['image rejection, inputs 100–3400 Hz, min dB (×2)', ...candidates.map((c) => fmt(c.callerToModel.rejectionMinDb)), '≥ 56'],
      ['image rejection at 1 / 3 kHz, dB (×2)', ...candidates.map((c) => `${fmt(c.callerToModel.rejectionAtDb['1000'])} / ${fmt(c.callerToModel.rejectionAtDb['3000'])}`), ''],
      ['alias rejection, inputs 4.65–11.95 kHz, min dB (÷3)', ...candidates.map((c) => fmt(c.modelToCaller.rejectionMinDb)), '≥ 58'],
      ['alias rejection at 5 / 9 kHz, dB (÷3)', ...candidates.map((c) => `${fmt(c.modelToCaller.rejectionAtDb['5000'])} / ${fmt(c.modelToCaller.rejectionAtDb['9000'])}`), '≥ 60'],
      ...both('THD+N at 300 / 1k / 3k Hz, dB', (d) => `${fmt(d.thdPlusNDb['300'])} / ${fmt(d.thdPlusNDb['1000'])} / ${fmt(d.thdPlusNDb['3000'])}`, ''),
      ...both('added delay (group delay + hold-back), ms', (d) => `${fmt(d.addedDelayMs, 2)}${d.holdBackMs > 0 ? ` (${fmt(d.holdBackMs, 2)} held back)` : ''}`, '≤ 1.5'),
      ...both('chunked (20 ms, random 1–2000) vs whole buffer', chunk, 'identical'),
    ],
  );
}

const triple = (p: { p50: number; p99: number; max: number }): string => `${fmt(p.p50, 2)} / ${fmt(p.p99, 2)} / ${fmt(p.max, 1)}`;

function endToEndTable(levels: readonly LevelResult[]): string {
  return table(
    [
      'calls',
      'caller → model ms p50 / p99 / max',
      'model → caller ms p50 / p99 / max',
      'interrupted → clear ms p50 / p99 / max',
      'stream start → first audio ms p50 / p99',
      'server CPU per call, % of a core',
      'server cores',
      'RSS / heap / external per call MiB',
      'after the calls: RSS / heap growth MiB',
      'server event-loop delay ms p99 / max',
      'GC pauses: count / longest / total ms',
      'load gen cores / event-loop delay max ms',
      'other processes cores',
    ],
    levels.map((l: LevelResult) => [
      `${l.calls}${l.callsUp === l.calls ? '' : ` (${l.callsUp} up)`}`,
      triple(l.callerToModelMs),
      triple(l.modelToCallerMs),
      triple(l.interruptedToClearMs),
      `${fmt(l.streamStartToFirstAudioMs.p50, 1)} / ${fmt(l.streamStartToFirstAudioMs.p99, 1)}`,
      fmt(l.server.cpuPerCallPercentOfCore, 3),
      fmt(l.server.cpu.cores, 2),
      `${fmt(l.server.rssPerCallMiB, 2)} / ${fmt(l.server.heapPerCallMiB, 3)} / ${fmt(l.server.externalPerCallMiB, 3)}`,
      `${fmt(l.server.rssAfterCallsGrowthMiB, 1)} / ${fmt(l.server.heapAfterCallsGrowthMiB, 1)}`,
      `${fmt(l.server.eventLoopDelay.p99Ms, 1)} / ${fmt(l.server.eventLoopDelay.maxMs, 1)}`,
      gcPauses(l),
      `${fmt(l.loadGenerator.cpu.cores, 2)} / ${fmt(l.loadGenerator.eventLoopDelay.maxMs, 1)}`,
      `${fmt(l.backgroundCores, 2)}${l.attempts > 1 ? ` (${l.attempts} tries)` : ''}`,
    ]),
  );
}

const gcPauses = (l: LevelResult): string => (l.server.gcPauses === undefined ? '–' : `${l.server.gcPauses.count} / ${fmt(l.server.gcPauses.maxMs, 1)} / ${fmt(l.server.gcPauses.totalMs, 0)}`);

/** Ours against the baseline bridge at each level both ran: the baseline's figure and ours as a ratio to it. */
function sideBySideTable(e2e: EndToEndResult): string {
  const ratio = (ours: number, theirs: number): string => (theirs > 0 && Number.isFinite(ours) ? `${fmt(ours / theirs, 2)}×` : '–');
  const pair = (ours: number, theirs: number, digits: number): string => `${fmt(theirs, digits)} | ${fmt(ours, digits)} (${ratio(ours, theirs)})`;
  const rows = e2e.baseline.flatMap((base) => {
    const ours = e2e.levels.find((l) => l.calls === base.calls);
    if (ours === undefined) return [];
    return [
      [
        String(base.calls),
        ...pair(ours.server.cpuPerCallPercentOfCore, base.server.cpuPerCallPercentOfCore, 3).split(' | '),
        ...pair(ours.callerToModelMs.p99, base.callerToModelMs.p99, 2).split(' | '),
        ...pair(ours.modelToCallerMs.p99, base.modelToCallerMs.p99, 2).split(' | '),
        ...pair(ours.interruptedToClearMs.p99, base.interruptedToClearMs.p99, 2).split(' | '),
        ...pair(ours.server.rssPerCallMiB, base.server.rssPerCallMiB, 2).split(' | '),
        `${fmt(base.backgroundCores, 2)} / ${fmt(ours.backgroundCores, 2)}`,
      ],
    ];
  });
  return table(
    [
      'calls',
      'CPU per call, % of a core: baseline',
      'ours (× baseline)',
      'caller → model p99 ms: baseline',
      'ours (×)',
      'model → caller p99 ms: baseline',
      'ours (×)',
      'interrupted → clear p99 ms: baseline',
      'ours (×)',
      'RSS per call MiB: baseline',
      'ours (×)',
      'other processes cores: baseline / ours',
    ],
    rows,
  );
}

function failoverTable(f: FailoverResult): string {
  const row = (label: string, value: { median: number; max: number }): string[] => [label, fmt(value.median, 0), fmt(value.max, 0)];
  return table(
    ['kill -9 of the instance carrying a call, ms', 'median', 'max'],
    [
      row('kill → Twilio sees the stream closed', f.killToStreamLostMs),
      row('kill → <Connect action> request', f.killToActionMs),
      row('kill → new stream starts (other instance)', f.killToNewStreamMs),
      row(`caller hears nothing: last agent audio → first agent audio on the new stream (incl. the caller's ${fmt(f.callerUtteranceMs / 1000, 2)} s "hello?")`, f.silenceMs),
      row('end of caller speech → answer, new stream (resumed session)', f.responseMs),
      row('end of caller speech → answer, before the kill', f.baselineResponseMs),
    ],
  );
}

function fleetCapacityTable(f: FleetCapacityResult): string {
  const ms = (p: { p50: number; p99: number; max: number }): string => `${fmt(p.p50, 0)} / ${fmt(p.p99, 0)} / ${fmt(p.max, 0)}`;
  return table(
    [
      'calls',
      'failed',
      'per instance',
      'greeting delay, server ms p50 / p99 / max',
      'greeting delay, Twilio clock ms p50 / p99 / max',
      'caller speech end → answer ms p50 / p99 / max (turns)',
      'agent audio underruns (calls, dropout ms, of s heard)',
      'Redis commands per call',
      'instance cores',
      'load gen + fake Gemini cores',
      'other cores (HAProxy, Redis, other processes)',
      'machine busy cores',
    ],
    f.steps.map((s) => [
      String(s.calls),
      `${s.failedCalls}${s.failures.length > 0 ? ` (${s.failures[0]})` : ''}`,
      Object.values(s.perInstance).join(' + '),
      ms(s.greetingServerMs),
      ms(s.greetingTwilioMs),
      `${ms(s.answerMs)} (${s.turnsAnswered})`,
      `${s.underruns.count} (${s.underruns.callsAffected}, ${fmt(s.underruns.dropoutMs, 0)} ms, ${fmt(s.underruns.agentAudioSeconds, 0)} s)`,
      fmt(s.redisCommandsPerCall, 1),
      `${Object.values(s.cpu.instances).map((c) => fmt(c, 2)).join(' + ')}`,
      fmt(s.cpu.loadGenerator, 2),
      fmt(s.cpu.other, 2),
      fmt(s.cpu.machineBusy, 2),
    ]),
  );
}

/** The fleet capacity lines of the report (also printed alone by bench/fleet-capacity-run.ts). */
export function fleetCapacitySection(f: FleetCapacityResult): string[] {
  return [
    `Fleet capacity (two instances behind HAProxy with the committed config, real Redis, fake Gemini Live; ${f.arrivalsPerSecond} new calls a second, ` +
      `streams open ${f.streamConnectDelayMs / 1000} s after the webhook, every call streams 20 ms caller frames in real time and says "Hello?" after each agent turn, ` +
      `all of a step's calls up together for ${f.holdMs / 1000} s; ` +
      (f.pinned
        ? 'the fleet (both instances, HAProxy, Redis) pinned to core 0, the load generator and the fake Gemini (one process) to core 1, so the figure is a 2-instance fleet on one core and the generator\'s share is its own core; '
        : 'the load generator and the fake Gemini run in one process on the same cores as the instances, so this is a lower bound for the fleet alone; ') +
      `other processes kept ${fmt(f.backgroundCoresAtStart, 2)} cores busy before the fleet started${f.mode === 'smoke' ? '; SMOKE RUN: tiny sizes, figures meaningless' : ''}):`,
    '',
    fleetCapacityTable(f),
    '',
    `Calls per 2-instance fleet: ${f.callsPerFleet} (largest step with p99 greeting delay, server side, ≤ ${f.greetingLimitMs} ms and no failed call); stopped because ${f.stoppedBecause}. ` +
      'When the machine busy cores reach the core count, every process is short of CPU and the step measures the machine, not the instances.',
  ];
}

/** Audio path cost per 20 ms frame, each way (the issue's targets). */
const CALLER_TO_MODEL_TARGET_US = 4;
const MODEL_TO_CALLER_TARGET_US = 6;
export const CALLS_PER_CORE_TARGET = 450;
/** At 200 calls: p99 each way, interrupted → clear p99, the longest event-loop stall. */
const AT_200_LATENCY_TARGET_MS = 10;
const AT_200_CLEAR_TARGET_MS = 5;
const AT_200_STALL_TARGET_MS = 10;
const MEMORY_PER_CALL_TARGET_MIB = 0.5;

export function checkTargets(cost: AudioCostResult, quality: AudioQualityResult, e2e: EndToEndResult, turnDetection?: TurnDetectionResult, turnTakingEndToEnd?: TurnTakingE2eResult): TargetCheck[] {
  const up = quality.ours.callerToModel;
  const down = quality.ours.modelToCaller;
  const at200 = e2e.levels.find((l) => l.calls === 200);
  const identical = (d: typeof up): boolean => d.chunkInvariance.maxDiff20ms === 0 && d.chunkInvariance.maxDiffRandom === 0 && d.chunkInvariance.sameLength;
  const ratio = Math.min(cost.libsamplerateOverOurs.callerToModel, cost.libsamplerateOverOurs.modelToCaller);
  const at200Check = (name: string, targetMs: number, pick: (l: LevelResult) => number, digits = 2): TargetCheck => ({
    name: `${name}, at 200 calls`,
    target: `≤ ${targetMs} ms`,
    value: at200 === undefined ? 'not measured' : `${fmt(pick(at200), digits)} ms`,
    met: at200 === undefined ? null : pick(at200) <= targetMs,
  });
  return [
    { name: 'caller → model audio path, per frame', target: `≤ ${CALLER_TO_MODEL_TARGET_US} µs`, value: `${fmt(cost.ours.callerToModel.medianUs, 2)} µs`, met: cost.ours.callerToModel.medianUs <= CALLER_TO_MODEL_TARGET_US },
    { name: 'model → caller audio path, per frame', target: `≤ ${MODEL_TO_CALLER_TARGET_US} µs`, value: `${fmt(cost.ours.modelToCaller.medianUs, 2)} µs`, met: cost.ours.modelToCaller.medianUs <= MODEL_TO_CALLER_TARGET_US },
    { name: 'cheaper than libsamplerate-js (both paths)', target: '≈ 20× (≥ 18×)', value: `${fmt(cost.libsamplerateOverOurs.callerToModel)}× / ${fmt(cost.libsamplerateOverOurs.modelToCaller)}×`, met: ratio >= 18 },
    { name: 'passband flatness to 3.4 kHz, both ways', target: '±0.1 dB', value: `±${fmt(up.passbandFlatnessDb, 3)} / ±${fmt(down.passbandFlatnessDb, 3)} dB`, met: Math.max(up.passbandFlatnessDb, down.passbandFlatnessDb) <= 0.1 },
    { name: 'image rejection, inputs to 3.4 kHz', target: '≥ 56 dB', value: `${fmt(up.rejectionMinDb)} dB`, met: up.rejectionMinDb >= 56 },
    { name: 'alias rejection, inputs 4.6–12 kHz', target: '≥ 58 dB', value: `${fmt(down.rejectionMinDb)} dB`, met: down.rejectionMinDb >= 58 },
    {
      name: 'alias rejection at 5 and 9 kHz',
      target: '≥ 60 dB',
      value: `${fmt(down.rejectionAtDb['5000'])} / ${fmt(down.rejectionAtDb['9000'])} dB`,
      met: Math.min(down.rejectionAtDb['5000'] ?? 0, down.rejectionAtDb['9000'] ?? 0) >= 60,
    },
    { name: 'added delay, each way', target: '≤ 1.5 ms', value: `${fmt(up.addedDelayMs, 2)} / ${fmt(down.addedDelayMs, 2)} ms`, met: Math.max(up.addedDelayMs, down.addedDelayMs) <= 1.5 },
    { name: 'chunked output = whole-buffer output', target: 'identical', value: identical(up) && identical(down) ? 'identical' : 'differs', met: identical(up) && identical(down) },
    {
      name: `calls per core (p99 ≤ ${e2e.latencyLimitMs} ms both ways)`,
      target: `≥ ${CALLS_PER_CORE_TARGET}`,
      value: `${fmt(e2e.capacity.callsPerCore, 0)} (${e2e.capacity.maxCallsWithinLimit} calls on ${fmt(e2e.capacity.serverCoresAtMax, 2)} cores)`,
      met: e2e.capacity.callsPerCore >= CALLS_PER_CORE_TARGET,
    },
    at200Check('caller → model p99', AT_200_LATENCY_TARGET_MS, (l) => l.callerToModelMs.p99),
    at200Check('model → caller p99', AT_200_LATENCY_TARGET_MS, (l) => l.modelToCallerMs.p99),
    at200Check('interrupted → clear p99', AT_200_CLEAR_TARGET_MS, (l) => l.interruptedToClearMs.p99),
    at200Check('longest event-loop stall', AT_200_STALL_TARGET_MS, (l) => l.server.eventLoopDelay.maxMs, 1),
    {
      name: 'memory per call (RSS), at 200 calls',
      target: `≤ ${MEMORY_PER_CALL_TARGET_MIB} MiB`,
      value: at200 === undefined ? 'not measured' : `${fmt(at200.server.rssPerCallMiB, 2)} MiB`,
      met: at200 === undefined ? null : at200.server.rssPerCallMiB <= MEMORY_PER_CALL_TARGET_MIB,
    },
    ...turnDetectionTargets(turnDetection),
    ...turnTakingEndToEndTargets(turnTakingEndToEnd),
  ];
}

export function renderReport(results: BenchResults): string {
  const m = results.machine;
  const e2e = results.endToEnd;
  const lines = [
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.platform}, Node ${m.node}; ${m.date.slice(0, 16).replace('T', ' ')} UTC; ` +
      `background load at start ${fmt(m.backgroundBusyCores, 2)} cores${results.mode === 'smoke' ? ' (SMOKE RUN: tiny sizes, figures meaningless)' : ''}`,
    '',
    `Audio path cost (${results.audioCost.method}; other processes used ${fmt(results.audioCost.backgroundCores, 2)} cores meanwhile):`,
    '',
    costTable(results.audioCost),
    '',
    'Audio quality (resamplers alone, int16 in and out):',
    '',
    qualityTable(results.audioQuality),
    '',
    `End to end (${e2e.pinned ? 'server pinned to core 0, load generator to core 1' : 'processes not pinned'}; real server and SDK on loopback; ` +
      `warm-up ${e2e.warmupMs / 1000} s, window ${e2e.measureMs / 1000} s; every call streams 20 ms caller frames, gets a 2 s agent turn every ${e2e.script.cycleMs / 1000} s ` +
      `in 200 ms chunks at 4× real time, every second turn interrupted):`,
    '',
    endToEndTable(e2e.levels),
    '',
    `Capacity: ${e2e.capacity.maxCallsWithinLimit} calls with p99 ≤ ${e2e.latencyLimitMs} ms both ways on ${fmt(e2e.capacity.serverCoresAtMax, 2)} server cores ` +
      `= ${fmt(e2e.capacity.callsPerCore, 0)} calls per core; stopped because ${e2e.capacity.stoppedBecause}. ` +
      `CPU alone would allow ${fmt(e2e.capacity.cpuBoundCallsPerCore, 0)} calls per core (${e2e.capacity.cpuBoundAtCalls} calls).`,
    ...(e2e.baseline.length === 0
      ? []
      : [
          '',
          'Side by side with the popular samples\' way (bench/end-to-end/baseline-bridge.ts: SDK send per frame, linear-interpolation resampling, ' +
            'a media message per model chunk, no marks), same load generator, same pinning; measured up to its first level over 1 s p99 or with failed calls:',
          '',
          sideBySideTable(e2e),
          '',
          'The baseline bridge alone:',
          '',
          endToEndTable(e2e.baseline),
        ]),
    ...vadCostLine(results.turnTakingEndToEnd),
    ...(results.failover === undefined
      ? []
      : [
          '',
          `Failover (two instances behind HAProxy with the committed config, real Redis; ${results.failover.runs} runs; the session resumed from its handle in ${results.failover.resumedRuns} of ${results.failover.runs}):`,
          '',
          failoverTable(results.failover),
        ]),
    ...(results.fleetCapacity === undefined ? [] : ['', ...fleetCapacitySection(results.fleetCapacity)]),
    ...(results.turnDetection === undefined ? [] : ['', ...turnDetectionSection(results.turnDetection)]),
    ...(results.turnTakingEndToEnd === undefined ? [] : ['', ...turnTakingEndToEndSection(results.turnTakingEndToEnd)]),
    ...(results.answeringMachine === undefined ? [] : ['', ...answeringMachineSection(results.answeringMachine)]),
    ...(results.abuse === undefined ? [] : ['', ...abuseSection(results.abuse)]),
    ...(results.callInspector === undefined ? [] : ['', ...callInspectorSection(results.callInspector)]),
    '',
    'Targets:',
    '',
    table(
      ['', 'target', 'measured', 'met'],
      results.targets.map((t) => [t.name, t.target, t.value, t.met === null ? 'not measured' : t.met ? 'yes' : 'NO']),
    ),
  ];
  return lines.join('\n');
}

/** The call inspector with a long call: the waveform from server-side peaks, the history's record. */
export function callInspectorSection(inspector: CallInspectorResult): string[] {
  return [
    `Call inspector, a ${inspector.callMinutes}-minute call (bench/call-inspector.ts):`,
    '',
    table(
      ['', 'figure'],
      [
        [`waveform of the ${fmt(inspector.wavMegabytes)} MB recording, ${inspector.points} points (median)`, `${fmt(inspector.waveformMs)} ms`],
        ['heap growth while reading it', `${fmt(inspector.waveformHeapGrowthMiB)} MiB`],
        ['waveform sent to the page', `${fmt(inspector.waveformJsonKiB)} KiB`],
        ['the call record (JSON)', `${fmt(inspector.recordKiB)} KiB`],
        ['written to SQLite / read back', `${fmt(inspector.historyInsertMs, 2)} ms / ${fmt(inspector.historyGetMs, 2)} ms`],
      ],
    ),
  ];
}

/** The abuse runs: what one hostile client cost the model, the memory and `/healthz`. */
export function abuseSection(abuse: AbuseResult): string[] {
  const memory = (m: StreamAbuseResult['memory']): string[] => [`${fmt(m.peakRssGrowthMiB, 1)} / ${fmt(m.peakHeapGrowthMiB, 1)}`, `${fmt(m.afterRssGrowthMiB, 1)} / ${fmt(m.afterHeapGrowthMiB, 1)}`];
  const health = (h: StreamAbuseResult['health']): string => `${fmt(h.maxMs, 0)}${h.failures > 0 ? ` (${h.failures} failed)` : ''}`;
  const streams: Array<[string, StreamAbuseResult | undefined]> = [
    ['timestamps stepping 10 s, Twilio stream', abuse.timestampSteps],
    ['120 s of audio at once, Twilio stream', abuse.burst],
    ['timestamps stepping 10 s, browser phone stream', abuse.browserTimestampSteps],
  ];
  const slow: SlowHeadersResult | undefined = abuse.slowHeaders;
  return [
    `Abuse (${abuse.method}):`,
    '',
    table(
      ['one media stream', 'frames sent', 'audio claimed s', 'model audio s (in the first second)', 'stream closed', '/healthz max ms', 'RSS / heap peak growth MiB', 'after the call: RSS / heap growth MiB'],
      streams.flatMap(([label, r]) =>
        r === undefined
          ? []
          : [[label, String(r.framesSent), fmt(r.claimedSeconds, 0), `${fmt(r.modelAudioSeconds, 1)} (${fmt(r.modelAudioFirstSecondSeconds, 1)})`, r.closeCode === null ? 'no' : String(r.closeCode), health(r.health), ...memory(r.memory)]],
      ),
    ),
    ...(slow === undefined
      ? []
      : [
          '',
          table(
            ['slow headers from one address', 'connections', 'refused at once', 'held until closed, ms median / max', `still open after ${fmt(slow.stillOpenAfterMs / 1000, 0)} s`, '/healthz max ms', 'RSS / heap peak growth MiB'],
            [['a header line a second', String(slow.connections), String(slow.refusedAtOnce), `${fmt(slow.heldMedianMs, 0)} / ${fmt(slow.heldMaxMs, 0)}`, String(slow.stillOpen), health(slow.health), memory(slow.memory)[0]!]],
          ),
        ]),
  ];
}

/** The neural VAD's extra cost per call (the turn-taking end-to-end run: the same calls with the model detecting turns). */
function vadCostLine(result: TurnTakingE2eResult | undefined): string[] {
  const neural = result?.figures.find((f) => f.detector === 'neural');
  if (result === undefined || neural === undefined) return [];
  return [
    '',
    `Neural VAD (local turn detection, Silero) extra cost per call: ${fmt(neural.addedCorePercentPerCall, 2)} % of a core ` +
      `(${fmt(neural.corePercentPerCall, 2)} % against ${fmt(result.modelDetectionCorePercentPerCall, 2)} % with the model detecting turns, ` +
      `${result.concurrency} calls at a time; the turn taking section has the run).`,
  ];
}
