import { describe, expect, it } from 'vitest';
import { CallerTurnDetector, DEFAULT_TURN_DETECTION, type CallerWindow, type TurnEvent } from '../../../src/turn-detection/caller-turn.js';

/**
 * The turn logic on the stream's own clock: windows of 32 ms with a speech score, a level and what the caller
 * could hear. Each helper describes a stretch of audio; `run` feeds it and returns the events with their times.
 */
const WINDOW_MS = 32;
const CALLER_DBFS = -24;
const AGENT_DBFS = -14;

interface Stretch {
  ms: number;
  probability: number;
  levelDbfs?: number;
  agentAudible?: boolean;
  /** The loudest agent audio within the echo's reach; −Infinity: none. */
  echoReferenceDbfs?: number;
}

const speech = (ms: number, extra: Partial<Stretch> = {}): Stretch => ({ ms, probability: 0.95, levelDbfs: CALLER_DBFS, ...extra });
const silence = (ms: number, extra: Partial<Stretch> = {}): Stretch => ({ ms, probability: 0.02, levelDbfs: -66, ...extra });
const overAgent = (stretch: Stretch): Stretch => ({ agentAudible: true, echoReferenceDbfs: AGENT_DBFS, ...stretch });

function run(stretches: Stretch[], detector = new CallerTurnDetector()): TurnEvent[] {
  const events: TurnEvent[] = [];
  let clockMs = 0;
  for (const s of stretches) {
    for (let t = 0; t < s.ms; t += WINDOW_MS) {
      clockMs += WINDOW_MS;
      const window: CallerWindow = {
        endMs: clockMs,
        durationMs: WINDOW_MS,
        speechProbability: s.probability,
        levelDbfs: s.levelDbfs ?? -66,
        agentAudible: s.agentAudible ?? false,
        echoReferenceDbfs: s.echoReferenceDbfs ?? -Infinity,
      };
      const event = detector.window(window);
      if (event !== undefined) events.push(event);
    }
  }
  return events;
}

describe('CallerTurnDetector, agent silent', () => {
  it('opens the turn once the onset has lasted, with the pre-roll back to the onset, and ends it after the silence', () => {
    const events = run([silence(320), speech(1600), silence(800)]);
    const { startSpeechMs, preRollPaddingMs, endSilenceMs } = DEFAULT_TURN_DETECTION;
    expect(events).toEqual([
      { type: 'speechStarted', atMs: 320 + startSpeechMs, onsetMs: 320, preRollMs: startSpeechMs + preRollPaddingMs },
      { type: 'speechEnded', atMs: 320 + 1600 + endSilenceMs + 12, endMs: 1920 },
    ]);
  });

  it('ignores a click (speech shorter than the onset) and a pause inside the turn', () => {
    expect(run([silence(320), speech(32), silence(640)])).toEqual([]);
    const events = run([speech(640), silence(320), speech(640), silence(800)]);
    expect(events.map((e) => e.type)).toEqual(['speechStarted', 'speechEnded']);
    expect(events[1]).toMatchObject({ endMs: 640 + 320 + 640 });
  });

  it('lets unsure windows (between the thresholds) neither start nor end anything', () => {
    expect(run([silence(320), { ms: 2000, probability: 0.45, levelDbfs: CALLER_DBFS }])).toEqual([]);
    // Inside a turn they do not count as silence: the turn ends only after real silence.
    const events = run([speech(640), { ms: 1000, probability: 0.45, levelDbfs: CALLER_DBFS }, silence(800)]);
    expect(events.map((e) => [e.type, e.atMs])).toEqual([
      ['speechStarted', 64],
      ['speechEnded', 640 + 1024 + 512],
    ]);
  });

  it('takes no speech from windows quieter than the minimum level (a far television)', () => {
    expect(run([speech(2000, { levelDbfs: -55 })])).toEqual([]);
  });
});

describe('CallerTurnDetector, agent audible', () => {
  it('lets a backchannel pause but never cut the agent, and says when it is over', () => {
    const events = run([overAgent(silence(640)), overAgent(speech(384)), overAgent(silence(1000))]);
    expect(events).toEqual([
      { type: 'overlapStarted', atMs: 640 + 64, onsetMs: 640 },
      { type: 'backchannel', atMs: 640 + 384 + 512, onsetMs: 640, speechMs: 384 },
    ]);
  });

  it('cuts the agent once the caller has talked over it for the minimum, replaying from the onset', () => {
    const { minBargeInSpeechMs, preRollPaddingMs } = DEFAULT_TURN_DETECTION;
    const heldMs = Math.ceil(minBargeInSpeechMs / WINDOW_MS) * WINDOW_MS; // the first window end at or past the minimum
    const events = run([overAgent(silence(640)), overAgent(speech(2016)), silence(800)]);
    expect(events).toEqual([
      { type: 'overlapStarted', atMs: 704, onsetMs: 640 },
      { type: 'bargeIn', atMs: 640 + heldMs, onsetMs: 640, preRollMs: heldMs + preRollPaddingMs, speechMs: heldMs },
      { type: 'speechEnded', atMs: 2656 + 512, endMs: 2656 },
    ]);
  });

  it('adds up speech across short gaps: "okay, yeah" is one overlap', () => {
    const half = Math.ceil(DEFAULT_TURN_DETECTION.minBargeInSpeechMs / 2 / 32) * 32; // each part alone is too short to cut
    const events = run([overAgent(speech(half)), overAgent(silence(192)), overAgent(speech(half)), overAgent(silence(1000))]);
    expect(events.map((e) => e.type)).toEqual(['overlapStarted', 'bargeIn', 'speechEnded']);
  });

  it('never takes the agent’s own echo for the caller, however sure the VAD is', () => {
    // Echo 25 dB under the agent: a neural VAD scores it as speech.
    const echo = overAgent({ ms: 5000, probability: 0.97, levelDbfs: AGENT_DBFS - 25 });
    expect(run([echo])).toEqual([]);
    // Without the reference the same audio cuts the agent: the echo test is what keeps it talking.
    expect(run([{ ...echo, echoReferenceDbfs: -Infinity }]).map((e) => e.type)).toEqual(['overlapStarted', 'bargeIn']);
  });

  it('still hears a caller talking over the echo, louder than the echo could be', () => {
    const events = run([overAgent(speech(1000, { levelDbfs: AGENT_DBFS - 10 }))]);
    expect(events.map((e) => e.type)).toEqual(['overlapStarted', 'bargeIn']);
  });

  it('ignores noise the VAD scores low, however loud', () => {
    expect(run([overAgent({ ms: 5000, probability: 0.1, levelDbfs: -20 })])).toEqual([]);
  });

  it('gives the caller the floor without a cut when the agent stops during the overlap', () => {
    const events = run([overAgent(speech(192)), speech(1000), silence(800)]);
    expect(events.map((e) => e.type)).toEqual(['overlapStarted', 'speechStarted', 'speechEnded']);
    expect(events[1]).toMatchObject({ onsetMs: 0, atMs: 224 });
  });

  it('follows its settings and forgets everything on reset', () => {
    const eager = new CallerTurnDetector({ ...DEFAULT_TURN_DETECTION, minBargeInSpeechMs: 128 });
    expect(run([overAgent(speech(160))], eager).map((e) => [e.type, e.atMs])).toEqual([
      ['overlapStarted', 64],
      ['bargeIn', 128],
    ]);
    expect(eager.state).toBe('turn');
    eager.reset();
    expect(eager.state).toBe('idle');
    expect(run([silence(1000)], eager)).toEqual([]);
  });
});
