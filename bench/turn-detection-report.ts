/** The turn-detection tables of the report (bench/turn-detection.ts, bench/turn-taking-e2e.ts) and their target checks. */
import type { TargetCheck } from './report.js';
import { markdownTable } from './markdown.js';
import type { DetectorFigures, Latency, TurnDetectionResult } from './turn-detection.js';
import type { TurnTakingE2eFigures, TurnTakingE2eResult } from './turn-taking-e2e.js';

/** The configuration the targets are checked on: the neural VAD with the echo test, default settings. */
const HEADLINE_DETECTOR = 'neural+echo';

const fmt = (value: number | null | undefined, digits = 0): string => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const pair = (l: Latency): string => `${fmt(l.p50)} / ${fmt(l.p95)}`;

function detectorTable(result: TurnDetectionResult): string {
  const ds = result.detectors;
  const conditions = Object.keys(ds[0]?.falsePausesPerMinute ?? {});
  const row = (label: string, cell: (d: DetectorFigures) => string): string[] => [label, ...ds.map(cell)];
  return markdownTable(
    ['', ...ds.map((d) => d.name)],
    [
      row('onset → clear (playout paused at `overlapStarted`), ms p50 / p95', (d) => pair(d.pauseLatencyMs)),
      row('onset → cut (`bargeIn`), ms p50 / p95', (d) => pair(d.cutLatencyMs)),
      row('sentences over the agent that never cut it (at normal level)', (d) => `${d.missedBargeIns} of ${d.sentencesOverAgent} (${d.missedNormalLevel})`),
      row('sentences during which a paused agent would have resumed', (d) => String(d.sentencesResumed)),
      row('backchannels that paused / cut the agent', (d) => `${d.backchannelsPaused} / ${d.backchannelsCut} of ${d.backchannels}`),
      ...conditions.map((c) => row(`false clears / cuts per minute, ${c}`, (d) => `${fmt(d.falsePausesPerMinute[c], 1)} / ${fmt(d.falseCutsPerMinute[c], 1)}`)),
      row('false clears / cuts beside the caller’s speech (count)', (d) => `${d.falseElsewhere.pauses} / ${d.falseElsewhere.cuts}`),
      row('agent silent: onset → `speechStarted`, ms p50 / p95 (turns missed)', (d) => `${pair(d.turnOnsetMs)} (${d.missedTurns} of ${d.turns})`),
      row('end of turn: caller stops → `speechEnded`, ms p50 / p95 (turns split at a pause)', (d) => `${pair(d.endOfTurnDelayMs)} (${d.splitTurns})`),
    ],
  );
}

function windowTable(result: TurnDetectionResult): string {
  const w = result.windowScores;
  const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(0)} %`);
  const rows: string[][] = [
    ['caller speech, normal level', pct(w.callerNormal)],
    ['caller speech, quiet (−10 dB)', pct(w.callerQuiet)],
    ['caller speech over 10 dB SNR noise', pct(w.callerNoisy)],
    ...Object.entries({ ...w.echo, ...w.noise }).map(([condition, v]) => [`agent talking, only ${condition}`, pct(v)]),
  ];
  return markdownTable(['windows scored ≥ 0.5 by the model', 'share'], rows);
}

function sweepTable(result: TurnDetectionResult): string {
  return markdownTable(
    ['minBargeInSpeechMs', 'onset → cut ms p50 / p95', 'sentences missed', 'backchannels cut', 'false cuts per minute (worst condition)'],
    result.minBargeInSweep.map((s) => {
      const worst = Object.entries(s.falseCutsPerMinute).sort((a, b) => b[1] - a[1])[0];
      return [String(s.minBargeInSpeechMs), pair(s.cutLatencyMs), String(s.missedBargeIns), `${s.backchannelsCut} of ${s.backchannels}`, worst === undefined || worst[1] === 0 ? '0' : `${fmt(worst[1], 1)} (${worst[0]})`];
    }),
  );
}

function costTable(result: TurnDetectionResult): string {
  const { modelPerWindow, service } = result.cost;
  return markdownTable(
    ['', ...modelPerWindow.map((m) => `batch ${m.batch}`), ...service.map((s) => `service, ${s.calls} call${s.calls === 1 ? '' : 's'}`)],
    [
      ['CPU µs per 32 ms window', ...modelPerWindow.map((m) => fmt(m.cpuUs, 1)), ...service.map(() => '')],
      ['% of a core per call', ...modelPerWindow.map((m) => fmt(m.corePercentPerCall, 3)), ...service.map((s) => fmt(s.corePercentPerCall, 3))],
      ['windows per model run (mean)', ...modelPerWindow.map((m) => String(m.batch)), ...service.map((s) => fmt(s.rowsPerRun, 1))],
      ['windows skipped as too quiet', ...modelPerWindow.map(() => ''), ...service.map((s) => `${fmt(s.skippedShare * 100, 0)} %`)],
    ],
  );
}

export function turnDetectionSection(result: TurnDetectionResult): string[] {
  const s = result.settings;
  return [
    `Turn detection (${result.corpusSeconds} s of the caller-audio corpus, fixtures/turn-taking; decisions on the stream's own clock; ` +
      `settings: speech ≥ ${s.speechThreshold}, silence < ${s.silenceThreshold}, level ≥ ${s.minSpeechLevelDbfs} dBFS, echo margin ${s.echoMarginDb} dB, ` +
      `onset ${s.startSpeechMs} ms, cut after ${s.minBargeInSpeechMs} ms of speech, backchannel after ${s.overlapSilenceMs} ms of silence, ` +
      `turn end after ${s.endSilenceMs} ms${result.mode === 'smoke' ? '; SMOKE RUN: a few scenes, figures meaningless' : ''}):`,
    '',
    detectorTable(result),
    '',
    `The model's own view (${result.modelPath.split('/').slice(-3).join('/')}), before any turn logic:`,
    '',
    windowTable(result),
    '',
    'Neural VAD with the echo test, cutting at each minimum speech duration (no pause first):',
    '',
    sweepTable(result),
    '',
    `Cost of the neural VAD (the model alone on batches; VadService with N calls streaming in real time, its feeding subtracted; ` +
      `other processes used ${fmt(result.cost.backgroundCores, 2)} cores meanwhile); the energy detector: ${fmt(result.cost.energyUsPerFrame, 2)} µs per 20 ms frame:`,
    '',
    costTable(result),
  ];
}

export function turnDetectionTargets(result: TurnDetectionResult | undefined): TargetCheck[] {
  const d = result?.detectors.find((x) => x.id === HEADLINE_DETECTOR);
  return issueTargets('', d && { clear: d.pauseLatencyMs, falseClearsPerMinute: d.falsePausesPerMinute, missedNormalLevel: d.missedNormalLevel });
}

/**
 * The issue's targets for the neural VAD with the echo test: onset → clear p50 ≤ 250 ms and p95 ≤ 400 ms, no false
 * clear a minute with echo at −30 dB or pink noise at 20 dB SNR, no sentence at normal level missed. What a run did
 * not play (a smoke run plays a few scenes) is not measured.
 */
function issueTargets(prefix: string, f: { clear: Latency; falseClearsPerMinute: Record<string, number>; missedNormalLevel: number } | undefined): TargetCheck[] {
  const check = (name: string, target: string, value: number | undefined, format: (v: number) => string, met: (v: number) => boolean): TargetCheck =>
    value === undefined || !Number.isFinite(value) ? { name: prefix + name, target, value: 'not measured', met: null } : { name: prefix + name, target, value: format(value), met: met(value) };
  const ms = (v: number): string => `${fmt(v)} ms`;
  const perMinute = (v: number): string => `${fmt(v, 1)} per minute`;
  return [
    check('onset → clear p50 (neural VAD, echo test)', '≤ 250 ms', f?.clear.p50, ms, (v) => v <= 250),
    check('onset → clear p95 (neural VAD, echo test)', '≤ 400 ms', f?.clear.p95, ms, (v) => v <= 400),
    check('false clears, echo −30 dB', '0', f?.falseClearsPerMinute['echo −30 dB'], perMinute, (v) => v === 0),
    check('false clears, pink noise 20 dB SNR', '0', f?.falseClearsPerMinute['pink 20 dB SNR'], perMinute, (v) => v === 0),
    check('sentences at normal level that never cut the agent', '0', f?.missedNormalLevel, (v) => fmt(v), (v) => v === 0),
  ];
}

function endToEndTable(result: TurnTakingE2eResult): string {
  const fs = result.figures;
  const conditions = Object.keys(fs[0]?.falseClearsPerMinute ?? {});
  const row = (label: string, cell: (f: TurnTakingE2eFigures) => string): string[] => [label, ...fs.map(cell)];
  return markdownTable(
    ['', ...fs.map((f) => (f.detector === 'neural' ? 'Silero v6 + echo test' : 'energy + echo test'))],
    [
      row('onset → Twilio `clear` (agent paused), ms p50 / p95', (f) => pair(f.clearLatencyMs)),
      row('onset → `activityStart` at the model (agent cut), ms p50 / p95', (f) => pair(f.cutLatencyMs)),
      row('sentences the agent talked through (at normal level)', (f) => `${f.missedBargeIns} of ${f.sentencesOverAgent} (${f.missedNormalLevel})`),
      row('backchannels that paused / cut the agent', (f) => `${f.backchannelsPaused} / ${f.backchannelsCut} of ${f.backchannels}`),
      row('clears / cuts beside the caller’s speech, in those scenes (count)', (f) => `${f.falseElsewhere.clears} / ${f.falseElsewhere.cuts}`),
      row('at a backchannel the caller hears: silence, ms p50 / p95', (f) => pair(f.pauseGapMs)),
      row('… then the agent again from where it stopped: ms said twice p50 / p95', (f) => pair(f.resumeRepeatedMs)),
      ...conditions.map((c) => row(`false clears / cuts per minute, ${c}`, (f) => `${fmt(f.falseClearsPerMinute[c], 1)} / ${fmt(f.falseCutsPerMinute[c], 1)}`)),
      row('agent silent: onset → `activityStart`, ms p50 / p95 (turns missed)', (f) => `${pair(f.turnOnsetMs)} (${f.missedTurns} of ${f.turns})`),
      row('end of turn: caller stops → `activityEnd`, ms p50 / p95 (turns split at a pause)', (f) => `${pair(f.endOfTurnDelayMs)} (${f.splitTurns})`),
      row('CPU of the process per call, % of a core (vs the model detecting turns)', (f) => `${fmt(f.corePercentPerCall, 2)} (${f.addedCorePercentPerCall >= 0 ? '+' : ''}${fmt(f.addedCorePercentPerCall, 2)})`),
    ],
  );
}

export function turnTakingEndToEndSection(result: TurnTakingE2eResult): string[] {
  return [
    `Local turn detection end to end (the real server, the fake Live server speaking each scene's agent audio, the fake Twilio phone ` +
      `playing ${result.calls} scenes of the corpus as calls, ${result.concurrency} at a time, and echoing what it really played; ` +
      `${result.callSeconds} s of calls per detector; the model detecting turns, same calls: ${fmt(result.modelDetectionCorePercentPerCall, 2)} % of a core per call; ` +
      `other processes used ${fmt(result.backgroundCores, 2)} cores meanwhile${result.mode === 'smoke' ? '; SMOKE RUN: one scene, figures meaningless' : ''}):`,
    '',
    endToEndTable(result),
  ];
}

export function turnTakingEndToEndTargets(result: TurnTakingE2eResult | undefined): TargetCheck[] {
  const f = result?.figures.find((x) => x.detector === 'neural');
  return issueTargets('end to end (Twilio clear): ', f && { clear: f.clearLatencyMs, falseClearsPerMinute: f.falseClearsPerMinute, missedNormalLevel: f.missedNormalLevel });
}
