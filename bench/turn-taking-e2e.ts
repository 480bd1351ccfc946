/**
 * Local turn detection end to end, through the real server: the service (startApp, real HTTP and WebSocket server,
 * the real @google/genai SDK) with agents whose turns it detects, the fake Live server speaking each scene's agent
 * audio, and the fake Twilio phone playing the scenes of the caller-audio corpus (fixtures/turn-taking) in real
 * time, echoing what it really played at each scene's return loss and delay. Every scene is a call; calls overlap,
 * `concurrency` at a time. Measured on the fake Twilio's and the fake model's clocks (one process, one clock):
 *
 *   - onset → Twilio `clear` (the agent paused) and onset → `activityStart` at the model (the agent cut), for
 *     sentences over the agent; sentences that never cut it are missed barge-ins;
 *   - backchannels that paused or cut the agent, and what the caller then heard: the silence of the pause, and how
 *     much of the agent's audio was said again (or skipped) when it resumed;
 *   - false clears and false cuts per minute of agent speech with only echo or only noise on the line;
 *   - agent silent: onset → `activityStart`, and caller stops → `activityEnd` at the model (end-of-turn delay);
 *   - CPU per call: the process's CPU over the calls' duration, for each detector and for the same calls with the
 *     model detecting turns (the difference is what local detection costs; the fakes run in this process too).
 *
 * The latencies include the fake Twilio's 20 ms framing and this process's event loop, as a real line's would
 * include the network; decisions themselves are on the stream's clock (bench/turn-detection.ts has them offline).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineAgent } from '../src/agents/agent.js';
import type { LocalDetector } from '../src/agents/turn-taking.js';
import { ModelToCallerAudio } from '../src/audio/model-to-caller.js';
import { DEFAULT_TURN_DETECTION } from '../src/turn-detection/caller-turn.js';
import type { FakeReply, FakeSession } from '../test/fakes/gemini-live/server.js';
import type { FakeTwilioMediaStream } from '../test/fakes/twilio/index.js';
import { startBridge, type Bridge } from '../test/support/bridge-harness.js';
import { loadSceneAgentSpeech, loadTurnCorpus, type SceneLabels } from '../test/support/turn-corpus.js';
import { phoneFor, playScene } from '../test/support/turn-scenes.js';
import { withBackground } from './machine.js';
import { round } from './stats.js';
import { conditionOf, CUT_GRACE_MS, latency, ONSET_TOLERANCE_MS, within, type AgentSilentFigures, type Latency } from './turn-detection.js';

export interface TurnTakingE2eOptions {
  /** Scenes to play (every scene when undefined). */
  scenes?: string[];
  /** Calls at once. */
  concurrency: number;
  /** A call per detection first, not measured: the process loads and compiles what it needs. */
  warmUp: boolean;
}

export const FULL_TURN_TAKING_E2E_OPTIONS: TurnTakingE2eOptions = { concurrency: 6, warmUp: true };
export const SMOKE_TURN_TAKING_E2E_OPTIONS: TurnTakingE2eOptions = { scenes: ['barge-in-07'], concurrency: 1, warmUp: false };
const WARM_UP_SCENE = 'turn-08';

/** After a scene, how long the call stays up for what it caused to arrive (the end of turn, a resume). */
const SCENE_TAIL_MS = 1_500;

/** Agent silent: the turn's start and end are `activityStart` and `activityEnd` at the model. */
export interface TurnTakingE2eFigures extends AgentSilentFigures {
  detector: LocalDetector;
  /** Sentences over the agent: onset → Twilio `clear` (the agent paused), and onset → `activityStart` (cut). */
  clearLatencyMs: Latency;
  cutLatencyMs: Latency;
  sentencesOverAgent: number;
  /** Sentences the agent talked through: no cut during them, nor before them (background speech cutting first). */
  missedBargeIns: number;
  missedNormalLevel: number;
  backchannels: number;
  backchannelsPaused: number;
  backchannelsCut: number;
  /** What the caller heard at a backchannel's pause: silence from the clear to the agent again, and ms said twice. */
  pauseGapMs: Latency;
  resumeRepeatedMs: Latency;
  /** Per minute of agent speech with only echo or only noise on the line, per condition. */
  falseClearsPerMinute: Record<string, number>;
  falseCutsPerMinute: Record<string, number>;
  /** Clears and cuts in scenes with the caller's speech that it did not cause (background speech, before it). */
  falseElsewhere: { clears: number; cuts: number };
  /** CPU of this process per call, % of a core, and that less the same calls with the model detecting turns. */
  corePercentPerCall: number;
  addedCorePercentPerCall: number;
}

export interface TurnTakingE2eResult {
  mode: 'full' | 'smoke';
  calls: number;
  concurrency: number;
  callSeconds: number;
  figures: TurnTakingE2eFigures[];
  /** The same calls with the model detecting turns (the fake's energy detector): the CPU baseline. */
  modelDetectionCorePercentPerCall: number;
  backgroundCores: number;
}

type Detection = 'model' | LocalDetector;
const DETECTIONS = ['model', 'energy', 'neural'] as const;
const NUMBERS: Record<Detection, string> = { model: '+15550002000', energy: '+15550002001', neural: '+15550002002' };

/** One call's events, in ms from the scene's start. */
interface CallRecord {
  scene: SceneLabels;
  clears: number[];
  activityStarts: number[];
  activityEnds: number[];
  /** Backchannel pauses: the silence the caller heard and how much the agent said again after it. */
  pauses: Array<{ atMs: number; gapMs: number; repeatedMs: number }>;
  durationMs: number;
}

export async function measureTurnTakingEndToEnd(options: TurnTakingE2eOptions, mode: 'full' | 'smoke', onProgress: (line: string) => void = () => {}): Promise<TurnTakingE2eResult> {
  const corpus = loadTurnCorpus();
  const scenes = corpus.scenes.filter((s) => (options.scenes === undefined ? true : options.scenes.includes(s.name)));
  /** Each call's greeting is its scene's agent audio, in the order the calls are placed (one at a time). */
  const greetings: Int16Array[] = [];
  const greeted = new WeakSet<FakeSession>();
  const bridge = await startBridge({
    env: { LOG_LEVEL: 'warn', MAX_CONCURRENT_CALLS: '1000' },
    gemini: {
      replies: ({ source, session }): FakeReply => {
        if (source !== 'text' || greeted.has(session)) return { text: 'Sure.' };
        greeted.add(session);
        return { text: 'Agent speech.', audio: greetings.shift() ?? new Int16Array(0) };
      },
    },
    agents: () =>
      DETECTIONS.map((detection) =>
        defineAgent({
          name: `turns-${detection}`,
          instructions: 'You take bookings.',
          phoneNumbers: [NUMBERS[detection]],
          ...(detection === 'model' ? {} : { turnDetection: 'local', turnTaking: { localDetector: detection } }),
        }),
      ),
  });
  try {
    if (options.warmUp) {
      onProgress('turn taking end to end: warming up…');
      const scene = corpus.scenes.filter((s) => s.name === WARM_UP_SCENE);
      for (const detection of DETECTIONS) await runCalls(bridge, scene, NUMBERS[detection], greetings, 1);
    }
    const { value, backgroundCores } = await withBackground(async () => {
      const runs = new Map<Detection, { records: CallRecord[]; cpuMs: number }>();
      for (const detection of DETECTIONS) {
        onProgress(`turn taking end to end: ${scenes.length} calls, ${detection === 'model' ? 'the model detecting turns (CPU baseline)' : `${detection} detector`}…`);
        const cpu = process.cpuUsage();
        const records = await runCalls(bridge, scenes, NUMBERS[detection], greetings, options.concurrency);
        const used = process.cpuUsage(cpu);
        runs.set(detection, { records, cpuMs: (used.user + used.system) / 1000 });
      }
      return runs;
    });
    const percentPerCall = (run: { records: CallRecord[]; cpuMs: number }): number => (run.cpuMs / run.records.reduce((sum, r) => sum + r.durationMs, 0)) * 100;
    const baseline = percentPerCall(value.get('model')!);
    const figures = (['energy', 'neural'] as const).map((detector) => {
      const run = value.get(detector)!;
      const own = percentPerCall(run);
      return { ...tally(detector, run.records), corePercentPerCall: round(own, 2), addedCorePercentPerCall: round(own - baseline, 2) };
    });
    const callSeconds = value.get('neural')!.records.reduce((sum, r) => sum + r.durationMs, 0) / 1000;
    return { mode, calls: scenes.length, concurrency: options.concurrency, callSeconds: round(callSeconds, 0), figures, modelDetectionCorePercentPerCall: round(baseline, 2), backgroundCores };
  } finally {
    await bridge.stop();
  }
}

/** Every scene as a call to `number`, `concurrency` at a time; calls are placed one after another. */
async function runCalls(bridge: Bridge, scenes: SceneLabels[], number: string, greetings: Int16Array[], concurrency: number): Promise<CallRecord[]> {
  const queue = [...scenes];
  const records: CallRecord[] = [];
  let placing = Promise.resolve();
  const worker = async (): Promise<void> => {
    for (let scene = queue.shift(); scene !== undefined; scene = queue.shift()) {
      const current = scene;
      const placed = placing.then(() => placeCall(bridge, current, number, greetings));
      placing = placed.then(() => undefined);
      const { twilio, session } = await placed;
      records.push(await playCall(twilio, session, current));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return records;
}

async function placeCall(bridge: Bridge, scene: SceneLabels, number: string, greetings: Int16Array[]): Promise<{ twilio: FakeTwilioMediaStream; session: FakeSession }> {
  greetings.push(loadSceneAgentSpeech(scene));
  const sessionsBefore = bridge.gemini.sessions.length;
  const { callSid, twiml } = await bridge.ringWebhook({ To: number });
  const twilio = await bridge.openStream(callSid, twiml, phoneFor(scene));
  const session = await bridge.gemini.waitForSession(sessionsBefore);
  // Its greeting has taken its scene's agent audio before the next call asks for one.
  await session.waitUntil((s) => s.modelTurns.length > 0, 5_000);
  return { twilio, session };
}

async function playCall(twilio: FakeTwilioMediaStream, session: FakeSession, scene: SceneLabels): Promise<CallRecord> {
  const startedAtMs = twilio.now();
  const played = await playScene(twilio, scene);
  await sleep(SCENE_TAIL_MS);
  // One process: the fake model's clock is the fake Twilio's, offset by when each began.
  const twilioOrigin = performance.now() - twilio.now();
  const sceneMs = (twilioMs: number): number => twilioMs - played.sceneStartAtMs;
  const modelSceneMs = (atMs: number): number => sceneMs(session.openedAt + atMs - twilioOrigin);
  const marks = (type: 'activityStart' | 'activityEnd'): number[] =>
    session.receivedMessages.flatMap((m) => (m.kind === 'realtimeInput' && m.input.type === type ? [modelSceneMs(m.atMs)] : []));
  const record: CallRecord = {
    scene,
    clears: twilio.clears.map((c) => sceneMs(c.atMs)),
    activityStarts: marks('activityStart'),
    activityEnds: marks('activityEnd'),
    pauses: scene.group === 'backchannel' ? pausesHeard(twilio, session, played.sceneStartAtMs) : [],
    durationMs: twilio.now() - startedAtMs,
  };
  await twilio.hangUp();
  return record;
}

/**
 * What the caller heard at each pause: the silence from the `clear` to the agent's next audio, and where the
 * agent resumed in its reply against where it had stopped (the reply as the server converts it, matched byte for
 * byte): positive, said again; negative, skipped.
 */
function pausesHeard(twilio: FakeTwilioMediaStream, session: FakeSession, sceneStartAtMs: number): CallRecord['pauses'] {
  const reply = session.modelTurns[0]?.reply.audio;
  if (reply === undefined) return [];
  const spoken = Buffer.from(new ModelToCallerAudio().convert(new Uint8Array(reply.buffer, reply.byteOffset, reply.byteLength)));
  const heard = twilio.heardTimeline;
  const probeBytes = 400; // 50 ms
  return twilio.clears.flatMap((clear) => {
    const before = heard.filter((chunk) => chunk.atMs < clear.atMs);
    const after = heard.find((chunk) => chunk.atMs >= clear.atMs);
    if (before.length === 0 || after === undefined) return [];
    const lastBefore = before.at(-1)!;
    const tail = Buffer.concat(before.slice(-40).map((c) => Buffer.from(c.bytes))).subarray(-probeBytes);
    const head = Buffer.concat(heard.slice(heard.indexOf(after), heard.indexOf(after) + 40).map((c) => Buffer.from(c.bytes))).subarray(0, probeBytes);
    const stoppedAt = spoken.indexOf(tail) + tail.length;
    const resumedAt = spoken.indexOf(head);
    return [
      {
        atMs: clear.atMs - sceneStartAtMs,
        gapMs: after.atMs - (lastBefore.atMs + lastBefore.bytes.length / 8),
        repeatedMs: stoppedAt < tail.length || resumedAt < 0 ? Number.NaN : (stoppedAt - resumedAt) / 8,
      },
    ];
  });
}

function tally(detector: LocalDetector, records: CallRecord[]): Omit<TurnTakingE2eFigures, 'corePercentPerCall' | 'addedCorePercentPerCall'> {
  const t = { clear: [] as number[], cut: [] as number[], sentences: 0, missed: 0, missedNormal: 0, backchannels: 0, paused: 0, cut2: 0, gap: [] as number[], repeated: [] as number[] };
  const elsewhere = { clears: 0, cuts: 0 };
  const turn = { onset: [] as number[], missed: 0, turns: 0, end: [] as number[], split: 0 };
  const byCondition = new Map<string, { clears: number; cuts: number; agentMs: number }>();
  for (const r of records) {
    const { scene } = r;
    const condition = conditionOf(scene);
    if (condition !== undefined && scene.agent !== undefined) {
      const entry = byCondition.get(condition) ?? { clears: 0, cuts: 0, agentMs: 0 };
      entry.clears += r.clears.length;
      entry.cuts += r.activityStarts.length;
      entry.agentMs += scene.agent.endMs - scene.agent.startMs;
      byCondition.set(condition, entry);
    }
    if (scene.agent !== undefined && scene.caller.length > 0) {
      const caused = (ms: number, graceMs: number): boolean => scene.caller.some((c) => ms >= c.startMs - ONSET_TOLERANCE_MS && ms <= c.endMs + graceMs);
      elsewhere.clears += r.clears.filter((ms) => !caused(ms, DEFAULT_TURN_DETECTION.overlapSilenceMs)).length;
      elsewhere.cuts += r.activityStarts.filter((ms) => !caused(ms, CUT_GRACE_MS)).length;
    }
    for (const segment of scene.caller) {
      const mine = (times: number[], graceMs = 0): number | undefined => times.find((ms) => ms >= segment.startMs - ONSET_TOLERANCE_MS && ms <= segment.endMs + graceMs);
      if (segment.kind === 'backchannel') {
        t.backchannels++;
        if (mine(r.clears, DEFAULT_TURN_DETECTION.overlapSilenceMs) !== undefined) t.paused++;
        if (mine(r.activityStarts, CUT_GRACE_MS) !== undefined) t.cut2++;
        for (const pause of r.pauses.filter((p) => within(p.atMs, segment, ONSET_TOLERANCE_MS))) {
          t.gap.push(pause.gapMs);
          if (Number.isFinite(pause.repeatedMs)) t.repeated.push(pause.repeatedMs);
        }
      } else if (scene.agent !== undefined) {
        t.sentences++;
        const clear = mine(r.clears);
        const cut = mine(r.activityStarts, CUT_GRACE_MS);
        if (clear !== undefined) t.clear.push(clear - segment.startMs);
        if (cut !== undefined) t.cut.push(cut - segment.startMs);
        else if (!r.activityStarts.some((ms) => ms >= scene.agent!.startMs && ms < segment.startMs)) {
          t.missed++;
          if (segment.level === 'normal') t.missedNormal++;
        }
      } else {
        turn.turns++;
        const start = mine(r.activityStarts);
        if (start === undefined) turn.missed++;
        else turn.onset.push(start - segment.startMs);
        if (r.activityEnds.some((ms) => ms > segment.startMs && ms < segment.endMs)) turn.split++;
        const end = r.activityEnds.find((ms) => ms >= segment.endMs);
        if (end !== undefined) turn.end.push(end - segment.endMs);
      }
    }
  }
  const perMinute = (pick: (c: { clears: number; cuts: number }) => number): Record<string, number> =>
    Object.fromEntries([...byCondition].map(([condition, c]) => [condition, round(pick(c) / (c.agentMs / 60_000), 2)]));
  return {
    detector,
    clearLatencyMs: latency(t.clear),
    cutLatencyMs: latency(t.cut),
    sentencesOverAgent: t.sentences,
    missedBargeIns: t.missed,
    missedNormalLevel: t.missedNormal,
    backchannels: t.backchannels,
    backchannelsPaused: t.paused,
    backchannelsCut: t.cut2,
    pauseGapMs: latency(t.gap),
    resumeRepeatedMs: latency(t.repeated),
    falseClearsPerMinute: perMinute((c) => c.clears),
    falseCutsPerMinute: perMinute((c) => c.cuts),
    falseElsewhere: elsewhere,
    turnOnsetMs: latency(turn.onset),
    missedTurns: turn.missed,
    turns: turn.turns,
    endOfTurnDelayMs: latency(turn.end),
    splitTurns: turn.split,
  };
}
