import { describe, expect, it } from 'vitest';
import { classifyCalleeWords } from '../../../src/outbound/callee-phrases.js';
import {
  CalleeVerdicts,
  GREETING_END_SILENCE_MS,
  HUMAN_PAUSE_MS,
  LONG_GREETING_PAUSE_MS,
  SILENT_CALLEE_MS,
  type OpeningAction,
} from '../../../src/outbound/callee-verdict.js';

/** Drives the state machine with 20 ms frames on its own clock; `speech` lists [startMs, endMs) of voice. */
class Line {
  nowMs = 0;
  readonly actions: Array<{ atMs: number; action: OpeningAction }> = [];
  constructor(readonly verdicts = new CalleeVerdicts()) {}

  /** Frames up to `untilMs`, voiced inside the intervals of `speech`. */
  play(untilMs: number, speech: Array<[number, number]> = []): this {
    while (this.nowMs < untilMs) {
      this.nowMs += 20;
      const voiced = speech.some(([start, end]) => this.nowMs > start && this.nowMs <= end);
      this.note(this.verdicts.frame(this.nowMs, voiced));
    }
    return this;
  }

  note(actions: readonly OpeningAction[]): this {
    for (const action of actions) this.actions.push({ atMs: this.nowMs, action });
    return this;
  }

  get names(): OpeningAction[] {
    return this.actions.map((a) => a.action);
  }
}

describe('CalleeVerdicts: when the agent of an outbound call may speak', () => {
  it('holds the agent while a callee says nothing, then introduces after SILENT_CALLEE_MS (verdict unknown, by silence)', () => {
    const line = new Line().play(SILENT_CALLEE_MS - 20);
    expect(line.actions).toEqual([]);
    expect(line.verdicts.holding).toBe(true);
    line.play(SILENT_CALLEE_MS);
    expect(line.actions).toEqual([{ atMs: SILENT_CALLEE_MS, action: 'introduce' }]);
    expect(line.verdicts.verdict).toEqual({ answeredBy: 'unknown', decidedBy: 'silence', atMs: SILENT_CALLEE_MS });
    expect(line.verdicts.holding).toBe(false);
  });

  it('introduces once a short hello is followed by HUMAN_PAUSE_MS of quiet: a person', () => {
    const line = new Line().play(3_000, [[400, 1_000]]);
    expect(line.actions).toEqual([{ atMs: 1_000 + HUMAN_PAUSE_MS, action: 'introduce' }]);
    expect(line.verdicts.verdict).toMatchObject({ answeredBy: 'human', decidedBy: 'short-greeting' });
  });

  it('does not take the pauses inside a greeting for the end of a hello, and leaves the voicemail at its beep', () => {
    const greeting: Array<[number, number]> = [[300, 1_500], [1_900, 4_000], [4_400, 6_500]];
    const line = new Line().play(7_200, greeting);
    expect(line.actions).toEqual([]);
    line.note(line.verdicts.tone(7_200, 'beep', 1000));
    expect(line.names).toEqual(['leave-voicemail']);
    expect(line.verdicts.verdict).toEqual({ answeredBy: 'machine', decidedBy: 'beep', atMs: 7_200 });
    expect(line.verdicts.phase).toBe('voicemail');
  });

  it('introduces after a long hello and LONG_GREETING_PAUSE_MS of quiet when nothing says machine: unknown, biased to people', () => {
    const line = new Line().play(6_000, [[300, 3_500]]);
    expect(line.actions).toEqual([{ atMs: 3_500 + LONG_GREETING_PAUSE_MS, action: 'introduce' }]);
    expect(line.verdicts.verdict).toMatchObject({ answeredBy: 'unknown', decidedBy: 'long-greeting' });
  });

  it("holds a greeting whose words say machine until it ends, without a beep after GREETING_END_SILENCE_MS", () => {
    const line = new Line().play(2_000, [[300, 5_000]]);
    line.note(line.verdicts.transcript(2_000, 'Hi, you have reached Sam.'));
    expect(line.verdicts.phase).toBe('machine-greeting');
    line.play(5_000 + GREETING_END_SILENCE_MS + 200, [[300, 5_000]]);
    expect(line.actions).toEqual([{ atMs: 5_000 + GREETING_END_SILENCE_MS, action: 'leave-voicemail' }]);
    expect(line.verdicts.verdict).toMatchObject({ answeredBy: 'machine', decidedBy: 'transcript' });
    expect(line.verdicts.signals.map((s) => s.signal)).toEqual(['transcript', 'greeting-end']);
  });

  it("introduces at once on Twilio's human, and ignores it when the greeting's words already said machine", () => {
    const human = new Line().play(800, [[300, 2_000]]);
    human.note(human.verdicts.twilio(800, 'human'));
    expect(human.names).toEqual(['introduce']);
    expect(human.verdicts.verdict).toMatchObject({ answeredBy: 'human', decidedBy: 'twilio' });

    const machine = new Line().play(1_000, [[300, 4_000]]);
    machine.note(machine.verdicts.transcript(1_000, 'Please leave a message after the tone'));
    machine.note(machine.verdicts.twilio(1_200, 'human'));
    expect(machine.actions).toEqual([]);
    expect(machine.verdicts.signals.at(-1)).toMatchObject({ signal: 'twilio', value: 'human', ignored: true });
  });

  it("stops the introduction when Twilio's end-of-greeting verdict or a beep comes while it plays, and leaves the voicemail", () => {
    for (const signal of ['twilio', 'beep'] as const) {
      const line = new Line().play(1_800, [[300, 900]]);
      expect(line.names).toEqual(['introduce']);
      line.note(signal === 'twilio' ? line.verdicts.twilio(4_000, 'machine_end_beep') : line.verdicts.tone(4_000, 'beep', 440));
      expect(line.names).toEqual(['introduce', 'stop-agent', 'leave-voicemail']);
      expect(line.verdicts.verdict).toMatchObject({ answeredBy: 'machine', decidedBy: signal });
    }
  });

  it('stops the introduction on a greeting heard in the transcript and waits for the greeting to end', () => {
    const line = new Line().play(1_800, [[300, 900]]);
    line.note(line.verdicts.transcript(2_500, "Hi it's Ann, I can't come to the phone"));
    expect(line.names).toEqual(['introduce', 'stop-agent']);
    expect(line.verdicts.phase).toBe('machine-greeting');
  });

  it('hangs up at once on a fax, from our tone detector or from Twilio', () => {
    const tone = new Line().play(1_000);
    tone.note(tone.verdicts.tone(1_000, 'fax', 2100));
    expect(tone.names).toEqual(['hang-up']);
    expect(tone.verdicts.verdict).toMatchObject({ answeredBy: 'fax', decidedBy: 'fax-tone' });
    expect(tone.verdicts.phase).toBe('ended');
    const twilio = new Line().play(1_000);
    twilio.note(twilio.verdicts.twilio(1_000, 'fax'));
    expect(twilio.names).toEqual(['hang-up']);
  });

  it('identifies to a screener, then records and ignores every verdict once the conversation has started', () => {
    const line = new Line().play(1_000, [[300, 4_000]]);
    line.note(line.verdicts.transcript(4_500, "Hi, the person you're calling is using a screening service. Go ahead and say your name and why you're calling."));
    expect(line.names).toEqual(['identify']);
    expect(line.verdicts.verdict).toMatchObject({ answeredBy: 'screener', decidedBy: 'transcript' });
    line.verdicts.agentTurnEnded();
    expect(line.verdicts.phase).toBe('conversation');
    line.note(line.verdicts.twilio(9_000, 'machine_end_beep'));
    line.note(line.verdicts.tone(9_100, 'beep', 1000));
    line.note(line.verdicts.transcript(9_200, 'leave a message after the tone'));
    expect(line.names).toEqual(['identify']);
    expect(line.verdicts.verdict).toMatchObject({ answeredBy: 'screener' });
    expect(line.verdicts.signals.slice(1).map((s) => [s.signal, s.ignored])).toEqual([
      ['twilio', true],
      ['beep', true],
      ['transcript', true],
    ]);
  });

  it('replaces an unknown verdict by the first real one before the conversation starts', () => {
    const line = new Line().play(SILENT_CALLEE_MS);
    expect(line.verdicts.verdict?.answeredBy).toBe('unknown');
    line.note(line.verdicts.twilio(3_000, 'human'));
    expect(line.verdicts.verdict).toEqual({ answeredBy: 'human', decidedBy: 'twilio', atMs: 3_000 });
    expect(line.names).toEqual(['introduce']);
  });

  it('hangs up on machines, without waiting for the greeting to end, for an agent that leaves no voicemail', () => {
    const line = new Line(new CalleeVerdicts('hang-up')).play(1_500, [[300, 5_000]]);
    line.note(line.verdicts.transcript(1_500, 'You have reached the voicemail of'));
    expect(line.names).toEqual(['hang-up']);
    expect(line.verdicts.phase).toBe('ended');
  });

  it('counts "not available" as a machine only in a greeting longer than a hello', () => {
    const short = new Line().play(1_000, [[300, 1_000]]);
    short.note(short.verdicts.transcript(1_000, 'He is not available'));
    expect(short.verdicts.phase).toBe('listening');
    const long = new Line().play(3_500, [[300, 3_500]]);
    long.note(long.verdicts.transcript(3_500, 'The subscriber is not available right now'));
    expect(long.verdicts.phase).toBe('machine-greeting');
  });

  it("introduces when the callee's words are a person's, and then ignores Twilio's verdict by length (a long hello, a screener)", () => {
    const line = new Line().play(3_400, [[300, 3_300]]);
    line.note(line.verdicts.transcript(3_900, 'Good morning, Bright Dental, how can I help you?'));
    expect(line.names).toEqual(['introduce']);
    expect(line.verdicts.verdict).toMatchObject({ answeredBy: 'human', decidedBy: 'transcript' });
    line.note(line.verdicts.twilio(4_800, 'machine_end_silence'));
    expect(line.names).toEqual(['introduce']);
    expect(line.verdicts.signals.at(-1)).toMatchObject({ value: 'machine_end_silence', ignored: true });

    const screener = new Line().play(1_000, [[300, 6_000]]);
    screener.note(screener.verdicts.transcript(6_600, "Go ahead and say your name and why you're calling."));
    screener.note(screener.verdicts.twilio(7_500, 'machine_end_silence'));
    expect(screener.names).toEqual(['identify']);
  });

  it('ignores Twilio unknown, records it, and waits for the other signals', () => {
    const line = new Line().play(600);
    line.note(line.verdicts.twilio(600, 'unknown'));
    expect(line.actions).toEqual([]);
    expect(line.verdicts.verdict).toBeUndefined();
    expect(line.verdicts.signals).toEqual([{ signal: 'twilio', value: 'unknown', atMs: 600, ignored: false }]);
  });
});

describe('classifyCalleeWords', () => {
  it.each([
    ["Hi, the person you're calling is using a screening service from Google. Go ahead and say your name and why you're calling.", 'screener'],
    ["Hi, I'm Call Assist, recording this call for the person you're trying to reach. Can I ask what you're calling about?", 'screener'],
    ['If you record your name and reason for calling, I will see if this person is available.', 'screener'],
    ['Please state your name and the purpose of your call.', 'screener'],
    ["Hi, you've reached Sarah. Leave a message after the tone!", 'machine'],
    ['The person you are calling is not available. At the tone, please record your message.', 'machine'],
    ['Welcome to the voice mail system of', 'machine'],
    ["Sorry I can't take your call right now", 'machine'],
    ['The number you have dialed is not in service', 'machine'],
    ['She is not available at the moment', 'machine-hint'],
    ['Hello?', undefined],
    ["Hi, who's calling?", 'human'],
    ['Good morning, Bright Dental, how can I help you?', 'human'],
    ['Mark speaking.', 'human'],
    ["Hi, Mark speaking, I can't take your call right now", 'machine'],
    ['Hello, this is Sarah.', undefined],
  ] as const)('%s → %s', (text, expected) => {
    expect(classifyCalleeWords(text)).toBe(expected);
  });
});
