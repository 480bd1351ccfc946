/**
 * Local turn detection over the caller-audio corpus (fixtures/turn-taking/, scripts/make-turn-corpus.ts): the
 * energy detector (src/audio/speech-detector.ts) and the neural VAD (Silero v6 through VadService), each through
 * CallerTurnDetector, with and without the echo test, scored against the corpus labels:
 *
 *   - from where the caller's sentence really starts over the agent to `overlapStarted` (the agent paused: Twilio
 *     `clear`) and to `bargeIn` (the agent cut), p50 / p95; sentences that never cut the agent are missed;
 *   - false clears and cuts per minute of agent speech with only echo or only noise on the line, per condition;
 *   - backchannels that paused the agent, and that cut it;
 *   - the model's own view: the share of windows it scores as speech, per kind of audio (the model comparison);
 *   - with the agent silent: onset → `speechStarted`, and the end-of-turn delay after the caller stops
 *     (`speechEnded`), turns split at a mid-sentence pause;
 *   - CPU: the model alone per window at several batch sizes, and the service at N concurrent real-time calls.
 *
 * Every decision is made on the stream's own clock (the windows' timestamps): the figures do not depend on how
 * fast this machine is, except the CPU ones.
 */
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FRAME_MS, TWILIO_FRAME_BYTES } from '../src/audio/format.js';
import { meanSquareToDbfs, mulawMeanSquare } from '../src/audio/level.js';
import { SpeechDetector } from '../src/audio/speech-detector.js';
import { CallerTurnDetector, DEFAULT_TURN_DETECTION, type TurnDetectionSettings, type TurnEvent } from '../src/turn-detection/caller-turn.js';
import { AgentEchoReference } from '../src/turn-detection/echo-reference.js';
import { SileroVad, VAD_WINDOW_MS } from '../src/turn-detection/silero-vad.js';
import { VadService, type VadWindow } from '../src/turn-detection/vad-service.js';
import { loadSceneAgentAudio, loadSceneAudio, loadTurnCorpus, type CallerSegment, type SceneLabels } from '../test/support/turn-corpus.js';
import { withBackground } from './machine.js';
import { percentile, round } from './stats.js';

export interface TurnDetectionOptions {
  /** Scenes to use (all when undefined). */
  scenes?: string[];
  /** Batch sizes for the model-alone cost, and concurrent real-time calls for the service's. */
  batchSizes: number[];
  costWindows: number;
  serviceCalls: number[];
  serviceSeconds: number;
  /** Minimum barge-in speech durations to sweep (ms). */
  minBargeInSweep: number[];
  /** Another Silero v5/v6 ONNX file to compare with the default one. */
  modelPath?: string;
}

export const FULL_TURN_DETECTION_OPTIONS: TurnDetectionOptions = {
  batchSizes: [1, 8, 32, 100],
  costWindows: 3000,
  serviceCalls: [1, 10, 50, 100],
  serviceSeconds: 4,
  minBargeInSweep: [100, 150, 200, 300, 400, 500, 700],
};
export const SMOKE_TURN_DETECTION_OPTIONS: TurnDetectionOptions = {
  scenes: ['barge-in-01', 'backchannel-01', 'echo-30db-120ms', 'noise-pink-20db', 'turn-02'],
  batchSizes: [1, 4],
  costWindows: 40,
  serviceCalls: [2],
  serviceSeconds: 0.5,
  minBargeInSweep: [200],
};

/** One scored window: what CallerTurnDetector takes, before the playout's part is added. */
interface ScoredWindow {
  endMs: number;
  durationMs: number;
  speechProbability: number;
  levelDbfs: number;
}

export interface Latency {
  p50: number;
  p95: number;
  max: number;
  count: number;
}

export type DetectorId = 'energy' | 'energy+echo' | 'neural' | 'neural+echo';

export interface DetectorFigures extends AgentSilentFigures {
  id: DetectorId;
  name: string;
  /** Sentences over the agent: onset → the first `overlapStarted` (or `bargeIn`), when playout can pause (Twilio `clear`). */
  pauseLatencyMs: Latency;
  /** Sentences over the agent: onset → `bargeIn`, when the agent is cut for good. */
  cutLatencyMs: Latency;
  sentencesOverAgent: number;
  /** Sentences that never cut the agent; of them, at the normal level (the target's "sentence at normal level"). */
  missedBargeIns: number;
  missedNormalLevel: number;
  backchannels: number;
  /** Sentences during which the overlap was given up (a `backchannel` event): a paused agent would have resumed. */
  sentencesResumed: number;
  /** Backchannels that paused the agent (it resumes at `backchannel`) and that cut it. */
  backchannelsPaused: number;
  backchannelsCut: number;
  /** Per minute of agent speech with only echo or only noise on the line, per condition ("echo −30 dB", …). */
  falsePausesPerMinute: Record<string, number>;
  falseCutsPerMinute: Record<string, number>;
  /** Pauses and cuts in scenes with caller speech that the caller's speech did not cause. */
  falseElsewhere: { pauses: number; cuts: number };
}

/** With the agent silent: onset → the turn's start, ms; turns never started; the turn's end after the caller stopped, ms. */
export interface AgentSilentFigures {
  turnOnsetMs: Latency;
  missedTurns: number;
  turns: number;
  endOfTurnDelayMs: Latency;
  /** A turn ended inside a mid-sentence pause. */
  splitTurns: number;
}

/** Shares of the model's windows scoring ≥ 0.5 (speech), by what the labels say is on the line. */
export interface WindowScores {
  callerNormal: number;
  callerQuiet: number;
  /** Caller speech with 10 dB SNR noise under it. */
  callerNoisy: number;
  echo: Record<string, number>;
  noise: Record<string, number>;
}

export interface TurnDetectionResult {
  mode: 'full' | 'smoke';
  modelPath: string;
  windowScores: WindowScores;
  settings: TurnDetectionSettings;
  corpusSeconds: number;
  detectors: DetectorFigures[];
  /** The neural VAD with the echo test, at each minimum barge-in speech duration. */
  minBargeInSweep: Array<{ minBargeInSpeechMs: number } & Pick<DetectorFigures, 'cutLatencyMs' | 'missedBargeIns' | 'backchannelsCut' | 'backchannels' | 'falseCutsPerMinute'>>;
  cost: {
    /** The model alone, µs of CPU per window at each batch size, and the same as % of a core per call. */
    modelPerWindow: Array<{ batch: number; cpuUs: number; wallUs: number; corePercentPerCall: number }>;
    /** VadService with N calls streaming in real time: process CPU per call, mean rows per run, windows skipped. */
    service: Array<{ calls: number; corePercentPerCall: number; rowsPerRun: number; skippedShare: number }>;
    /** The energy detector per 20 ms frame. */
    energyUsPerFrame: number;
    /** Cores other processes kept busy while the CPU was measured. */
    backgroundCores: number;
  };
}

/** Scores every scene through VadService: one stream per scene, all of them batched together like calls. */
async function scoreWithVad(model: SileroVad, scenes: SceneLabels[], audio: Map<string, Uint8Array>, skipBelowDbfs: number): Promise<Map<string, ScoredWindow[]>> {
  const service = new VadService(model, { batchDelayMs: 0, skipBelowDbfs });
  const scored = new Map<string, ScoredWindow[]>();
  const streams = scenes.map((scene) => {
    const windows: ScoredWindow[] = [];
    scored.set(scene.name, windows);
    const stream = service.openStream((w: VadWindow) => windows.push({ ...w, durationMs: VAD_WINDOW_MS }));
    stream.active = true;
    return { stream, bytes: audio.get(scene.name)! };
  });
  const longest = Math.max(...streams.map((s) => s.bytes.length));
  for (let offset = 0; offset < longest; offset += TWILIO_FRAME_BYTES) {
    for (const { stream, bytes } of streams) if (offset < bytes.length) stream.push(bytes.subarray(offset, offset + TWILIO_FRAME_BYTES));
    await service.flush();
  }
  for (const { stream } of streams) stream.close();
  await service.close();
  return scored;
}

/** Scores every scene with the energy detector's per-frame decision (1 voiced, 0 not). */
function scoreWithEnergy(scenes: SceneLabels[], audio: Map<string, Uint8Array>): Map<string, ScoredWindow[]> {
  const detector = new SpeechDetector();
  const scored = new Map<string, ScoredWindow[]>();
  for (const scene of scenes) {
    const bytes = audio.get(scene.name)!;
    const windows: ScoredWindow[] = [];
    for (let offset = 0; offset + TWILIO_FRAME_BYTES <= bytes.length; offset += TWILIO_FRAME_BYTES) {
      const frame = bytes.subarray(offset, offset + TWILIO_FRAME_BYTES);
      windows.push({
        endMs: (offset + TWILIO_FRAME_BYTES) / (TWILIO_FRAME_BYTES / FRAME_MS),
        durationMs: FRAME_MS,
        speechProbability: detector.isVoiced(frame) ? 1 : 0,
        levelDbfs: meanSquareToDbfs(mulawMeanSquare(frame)),
      });
    }
    scored.set(scene.name, windows);
  }
  return scored;
}

/** Runs CallerTurnDetector over a scene's windows, the playout's part taken from the labels. */
function detectTurns(scene: SceneLabels, windows: ScoredWindow[], agentAudio: Uint8Array, settings: TurnDetectionSettings, echoAware: boolean): TurnEvent[] {
  const detector = new CallerTurnDetector(settings);
  const reference = new AgentEchoReference();
  const agent = scene.agent;
  if (agent !== undefined && echoAware) reference.played(0, agentAudio);
  const events: TurnEvent[] = [];
  for (const w of windows) {
    const agentAudible = agent !== undefined && w.endMs > agent.startMs && w.endMs - w.durationMs < agent.endMs;
    const echoReferenceDbfs = echoAware ? reference.loudestDbfs(w.endMs, w.durationMs) : -Infinity;
    const event = detector.window({ ...w, agentAudible, echoReferenceDbfs });
    if (event !== undefined) events.push(event);
  }
  return events;
}

export const within = (ms: number, segment: CallerSegment, beforeMs: number): boolean => ms >= segment.startMs - beforeMs && ms <= segment.endMs;
/** An event's onset belongs to a caller segment if it lies in it, or just before its labelled start (soft onsets). */
export const ONSET_TOLERANCE_MS = 100;
/** A cut decided this soon after the sentence ended still answers it (the minimum speech came from its last words). */
export const CUT_GRACE_MS = 500;

export function conditionOf(scene: SceneLabels): string | undefined {
  if (scene.group === 'echo' && scene.echo !== undefined) return `echo −${scene.echo.returnLossDb} dB`;
  if (scene.group === 'noise' && scene.background !== undefined) return `${scene.background.kind} ${scene.background.snrDb} dB SNR`;
  return undefined;
}

class Tally {
  pause: number[] = [];
  cut: number[] = [];
  sentences = 0;
  missed = 0;
  missedNormal = 0;
  resumed = 0;
  backchannels = 0;
  backchannelsPaused = 0;
  backchannelsCut = 0;
  /** Per line condition: false pauses, false cuts, ms of agent speech. */
  byCondition = new Map<string, { pauses: number; cuts: number; agentMs: number }>();
  elsewhere = { pauses: 0, cuts: 0 };
  turnOnset: number[] = [];
  missedTurns = 0;
  turns = 0;
  endDelay: number[] = [];
  split = 0;

  scene(scene: SceneLabels, events: TurnEvent[]): void {
    const owner = (onsetMs: number): CallerSegment | undefined => scene.caller.find((s) => within(onsetMs, s, ONSET_TOLERANCE_MS));
    const stray = { pauses: 0, cuts: 0 };
    for (const event of events) {
      if ((event.type === 'overlapStarted' || event.type === 'bargeIn') && owner(event.onsetMs) === undefined) {
        if (event.type === 'overlapStarted') stray.pauses++;
        else stray.cuts++;
      }
    }
    for (const segment of scene.caller) this.segment(scene, segment, events.filter((e) => 'onsetMs' in e && within(e.onsetMs, segment, ONSET_TOLERANCE_MS)), events);
    const condition = conditionOf(scene);
    if (condition === undefined || scene.agent === undefined) {
      this.elsewhere.pauses += stray.pauses;
      this.elsewhere.cuts += stray.cuts;
      return;
    }
    const entry = this.byCondition.get(condition) ?? { pauses: 0, cuts: 0, agentMs: 0 };
    entry.pauses += stray.pauses;
    entry.cuts += stray.cuts;
    entry.agentMs += scene.agent.endMs - scene.agent.startMs;
    this.byCondition.set(condition, entry);
  }

  private segment(scene: SceneLabels, segment: CallerSegment, mine: TurnEvent[], all: TurnEvent[]): void {
    const cut = mine.find((e) => e.type === 'bargeIn');
    const pause = mine.find((e) => e.type === 'overlapStarted' || e.type === 'bargeIn');
    if (segment.kind === 'backchannel') {
      this.backchannels++;
      if (pause !== undefined) this.backchannelsPaused++;
      if (cut !== undefined) this.backchannelsCut++;
      return;
    }
    const agent = scene.agent;
    if (agent !== undefined && segment.startMs >= agent.startMs && segment.startMs < agent.endMs) {
      this.sentences++;
      if (pause !== undefined) this.pause.push(pause.atMs - segment.startMs);
      if (mine.some((e) => e.type === 'backchannel')) this.resumed++;
      // The agent is cut for this sentence by the first cut while it is said, even if an earlier noise began the overlap.
      const cutDuring = all.find((e) => e.type === 'bargeIn' && e.atMs > segment.startMs && e.atMs <= segment.endMs + CUT_GRACE_MS);
      if (cutDuring !== undefined) this.cut.push(cutDuring.atMs - segment.startMs);
      else {
        this.missed++;
        if (segment.level === 'normal') this.missedNormal++;
      }
      return;
    }
    this.turns++;
    const started = mine.find((e) => e.type === 'speechStarted');
    if (started === undefined) this.missedTurns++;
    else this.turnOnset.push(started.atMs - segment.startMs);
    const ends = all.filter((e) => e.type === 'speechEnded' && e.atMs > segment.startMs);
    if (ends.some((e) => e.atMs < segment.endMs)) this.split++;
    const end = ends.find((e) => e.atMs >= segment.endMs);
    if (end !== undefined) this.endDelay.push(end.atMs - segment.endMs);
  }

  figures(id: DetectorId, name: string): DetectorFigures {
    const perMinute = (pick: (c: { pauses: number; cuts: number }) => number): Record<string, number> =>
      Object.fromEntries([...this.byCondition].map(([condition, c]) => [condition, round(pick(c) / (c.agentMs / 60_000), 2)]));
    return {
      id,
      name,
      pauseLatencyMs: latency(this.pause),
      cutLatencyMs: latency(this.cut),
      sentencesOverAgent: this.sentences,
      missedBargeIns: this.missed,
      missedNormalLevel: this.missedNormal,
      sentencesResumed: this.resumed,
      backchannels: this.backchannels,
      backchannelsPaused: this.backchannelsPaused,
      backchannelsCut: this.backchannelsCut,
      falsePausesPerMinute: perMinute((c) => c.pauses),
      falseCutsPerMinute: perMinute((c) => c.cuts),
      falseElsewhere: { ...this.elsewhere },
      turnOnsetMs: latency(this.turnOnset),
      missedTurns: this.missedTurns,
      turns: this.turns,
      endOfTurnDelayMs: latency(this.endDelay),
      splitTurns: this.split,
    };
  }
}

export function latency(values: number[]): Latency {
  const p = (q: number): number => round(percentile(values, q), 0);
  return { p50: p(50), p95: p(95), max: p(100), count: values.length };
}

function evaluate(
  id: DetectorId,
  name: string,
  scenes: SceneLabels[],
  scored: Map<string, ScoredWindow[]>,
  agentAudio: Map<string, Uint8Array>,
  settings: TurnDetectionSettings,
  echoAware: boolean,
): DetectorFigures {
  const tally = new Tally();
  for (const scene of scenes) tally.scene(scene, detectTurns(scene, scored.get(scene.name)!, agentAudio.get(scene.name)!, settings, echoAware));
  return tally.figures(id, name);
}

/** What share of the windows the model calls speech, per kind of audio on the line (the model comparison). */
function windowScores(scenes: SceneLabels[], scored: Map<string, ScoredWindow[]>): WindowScores {
  const counts = new Map<string, { speech: number; all: number }>();
  const count = (key: string, w: ScoredWindow): void => {
    const c = counts.get(key) ?? { speech: 0, all: 0 };
    c.all++;
    if (w.speechProbability >= 0.5) c.speech++;
    counts.set(key, c);
  };
  for (const scene of scenes) {
    for (const w of scored.get(scene.name)!) {
      const startMs = w.endMs - w.durationMs;
      const segment = scene.caller.find((c) => c.kind === 'sentence' && startMs >= c.startMs && w.endMs <= c.endMs && !c.pauses.some((p) => w.endMs > p.startMs && startMs < p.endMs));
      if (segment !== undefined) {
        count(segment.level === 'quiet' ? 'callerQuiet' : 'callerNormal', w);
        if ((scene.background?.snrDb ?? Infinity) <= 10) count('callerNoisy', w);
      } else if (scene.agent !== undefined && startMs >= scene.agent.startMs && w.endMs <= scene.agent.endMs && scene.caller.length === 0) {
        count(conditionOf(scene) ?? 'other', w);
      }
    }
  }
  const share = (key: string): number => {
    const c = counts.get(key);
    return c === undefined ? Number.NaN : round(c.speech / c.all, 3);
  };
  const conditions = [...new Set(scenes.map(conditionOf).filter((c): c is string => c !== undefined))];
  return {
    callerNormal: share('callerNormal'),
    callerQuiet: share('callerQuiet'),
    callerNoisy: share('callerNoisy'),
    echo: Object.fromEntries(conditions.filter((c) => c.startsWith('echo')).map((c) => [c, share(c)])),
    noise: Object.fromEntries(conditions.filter((c) => !c.startsWith('echo')).map((c) => [c, share(c)])),
  };
}

/** The model alone: CPU and wall µs per window, batches of random audio-like input. */
async function modelCost(model: SileroVad, batch: number, windows: number): Promise<{ cpuUs: number; wallUs: number }> {
  model.reserve(batch);
  for (let i = 0; i < model.input.length; i++) model.input[i] = Math.sin(i * 0.07) * 0.1;
  const runs = Math.max(5, Math.round(windows / batch));
  for (let i = 0; i < Math.min(20, runs); i++) await model.run(batch);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await model.run(batch);
  const wallUs = ((performance.now() - started) * 1000) / (runs * batch);
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / (runs * batch), wallUs };
}

/**
 * VadService with `calls` streams fed 20 ms frames in real time, staggered across the 20 ms as calls are. The same
 * feeding with every stream off is measured first and subtracted: what is left is the VAD's own CPU.
 */
async function serviceCost(model: SileroVad, calls: number, seconds: number, audio: Uint8Array[], skipBelowDbfs: number): Promise<TurnDetectionResult['cost']['service'][number]> {
  const feed = async (active: boolean): Promise<{ cpuMs: number; elapsedMs: number; stats: VadService['stats'] }> => {
    const service = new VadService(model, { skipBelowDbfs });
    const streams = Array.from({ length: calls }, (_, i) => {
      const stream = service.openStream(() => {});
      stream.active = active;
      // Each call starts at a different point of its scene, so speech, echo and quiet are mixed as on real calls.
      return { stream, bytes: audio[i % audio.length]!, phaseMs: (i * FRAME_MS) / calls, sent: 0, first: i * 37 };
    });
    const started = performance.now();
    const cpu = process.cpuUsage();
    while (performance.now() - started < seconds * 1000) {
      const now = performance.now() - started;
      for (const s of streams) {
        for (; s.phaseMs + s.sent * FRAME_MS <= now; s.sent++) {
          const offset = ((s.first + s.sent) * TWILIO_FRAME_BYTES) % (s.bytes.length - TWILIO_FRAME_BYTES);
          s.stream.push(s.bytes.subarray(offset, offset + TWILIO_FRAME_BYTES));
        }
      }
      await sleep(2);
    }
    await service.flush();
    const used = process.cpuUsage(cpu);
    for (const s of streams) s.stream.close();
    await service.close();
    return { cpuMs: (used.user + used.system) / 1000, elapsedMs: performance.now() - started, stats: service.stats };
  };
  const idle = await feed(false);
  const busy = await feed(true);
  const vadCpuMs = Math.max(0, busy.cpuMs - (idle.cpuMs * busy.elapsedMs) / idle.elapsedMs);
  return {
    calls,
    corePercentPerCall: round((vadCpuMs / busy.elapsedMs / calls) * 100, 3),
    rowsPerRun: round(busy.stats.scored / Math.max(1, busy.stats.runs), 1),
    skippedShare: round(busy.stats.skipped / Math.max(1, busy.stats.scored + busy.stats.skipped), 3),
  };
}

function energyCost(audio: Uint8Array): number {
  const detector = new SpeechDetector();
  const frames = Math.floor(audio.length / TWILIO_FRAME_BYTES);
  const started = performance.now();
  for (let pass = 0; pass < 20; pass++) {
    for (let f = 0; f < frames; f++) detector.push(audio.subarray(f * TWILIO_FRAME_BYTES, (f + 1) * TWILIO_FRAME_BYTES));
  }
  return ((performance.now() - started) * 1000) / (frames * 20);
}

export async function measureTurnDetection(options: TurnDetectionOptions, mode: 'full' | 'smoke', onProgress: (line: string) => void = () => {}): Promise<TurnDetectionResult> {
  const corpus = loadTurnCorpus();
  const scenes = corpus.scenes.filter((s) => options.scenes === undefined || options.scenes.includes(s.name));
  const audio = new Map(scenes.map((s) => [s.name, loadSceneAudio(s)]));
  const agentAudio = new Map(scenes.map((s) => [s.name, loadSceneAgentAudio(s)]));
  const settings = DEFAULT_TURN_DETECTION;
  const model = await SileroVad.load(options.modelPath === undefined ? {} : { modelPath: options.modelPath });
  try {
    onProgress('turn detection: scoring the corpus…');
    const neural = await scoreWithVad(model, scenes, audio, settings.minSpeechLevelDbfs);
    const energy = scoreWithEnergy(scenes, audio);
    const modelName = options.modelPath === undefined ? 'Silero v6' : basename(options.modelPath);
    const detectors = [
      evaluate('energy', 'energy (−40 dBFS), no echo test', scenes, energy, agentAudio, settings, false),
      evaluate('energy+echo', 'energy (−40 dBFS) + echo test', scenes, energy, agentAudio, settings, true),
      evaluate('neural', `${modelName}, no echo test`, scenes, neural, agentAudio, settings, false),
      evaluate('neural+echo', `${modelName} + echo test`, scenes, neural, agentAudio, settings, true),
    ];
    const minBargeInSweep = options.minBargeInSweep.map((minBargeInSpeechMs) => {
      const f = evaluate('neural+echo', 'sweep', scenes, neural, agentAudio, { ...settings, minBargeInSpeechMs }, true);
      return { minBargeInSpeechMs, cutLatencyMs: f.cutLatencyMs, missedBargeIns: f.missedBargeIns, backchannelsCut: f.backchannelsCut, backchannels: f.backchannels, falseCutsPerMinute: f.falseCutsPerMinute };
    });
    onProgress('turn detection: CPU…');
    const callerAudio = scenes.filter((s) => s.group !== 'echo').map((s) => audio.get(s.name)!);
    const { value: cost, backgroundCores } = await withBackground(async () => {
      const modelPerWindow = [];
      for (const batch of options.batchSizes) {
        const { cpuUs, wallUs } = await modelCost(model, batch, options.costWindows);
        modelPerWindow.push({ batch, cpuUs: round(cpuUs, 1), wallUs: round(wallUs, 1), corePercentPerCall: round((cpuUs / (VAD_WINDOW_MS * 1000)) * 100, 3) });
      }
      const service = [];
      for (const calls of options.serviceCalls) service.push(await serviceCost(model, calls, options.serviceSeconds, callerAudio, settings.minSpeechLevelDbfs));
      return { modelPerWindow, service, energyUsPerFrame: round(energyCost(callerAudio[0]!), 3) };
    });
    return {
      mode,
      modelPath: model.modelPath,
      // The model's own view: every window scored, none skipped as too quiet.
      windowScores: windowScores(scenes, await scoreWithVad(model, scenes, audio, -Infinity)),
      settings,
      corpusSeconds: round(scenes.reduce((sum, s) => sum + s.durationMs, 0) / 1000, 1),
      detectors,
      minBargeInSweep,
      cost: { ...cost, backgroundCores },
    };
  } finally {
    await model.close();
  }
}
