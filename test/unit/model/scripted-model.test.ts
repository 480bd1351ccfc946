import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConversationEvent, ConversationSettings, ToolAnswer } from '../../../src/model/realtime-model.js';
import { CallerTurns, type HeardTurn } from '../../../src/model/scripted/caller-turns.js';
import type { CallerTurn, ScriptedReply } from '../../../src/model/scripted/script.js';
import { createScriptedModel } from '../../../src/model/scripted/scripted-model.js';
import { syntheticSpeech } from '../../../src/model/scripted/synthetic-voice.js';
import { createLogger } from '../../../src/observability/logger.js';

/** 16 kHz PCM16 LE bytes: a 440 Hz sine at `amplitude` for `ms`. */
function sine(amplitude: number, ms: number): Uint8Array {
  const samples = Int16Array.from({ length: ms * 16 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 16_000)));
  return new Uint8Array(samples.buffer);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const dbfs = (amplitude: number) => 20 * Math.log10(amplitude / Math.SQRT2 / 32768);

describe('CallerTurns', () => {
  // Line noise (−63 dBFS), a second of speech-level tone (−24 dBFS), then quiet long enough to end the turn.
  const audio = concat(sine(30, 500), sine(3_000, 1_000), sine(30, 700));

  function turnsOf(chunkBytes: number): { started: number; ended: HeardTurn[] } {
    const result = { started: 0, ended: [] as HeardTurn[] };
    const turns = new CallerTurns({ started: () => result.started++, ended: (turn) => result.ended.push(turn) }, 30_000);
    for (let at = 0; at < audio.length; at += chunkBytes) turns.push(audio.subarray(at, at + chunkBytes));
    return result;
  }

  it('finds the turn where the voice starts and stops, with its audio and the levels of speech and quiet', () => {
    const { started, ended } = turnsOf(640);
    expect(started).toBe(1);
    expect(ended).toHaveLength(1);
    const [turn] = ended;
    expect(turn).toMatchObject({ startMs: 500, endMs: 1_500 });
    expect(turn!.audio).toHaveLength(16_000);
    expect(turn!.audio[100]).toBe(new Int16Array(audio.buffer)[8_000 + 100]);
    expect(turn!.levelDbfs).toBeCloseTo(dbfs(3_000), 1);
    expect(turn!.quietLevelDbfs).toBeCloseTo(dbfs(30), 0);
  });

  it('hears the same turn whatever the chunks, samples split across them included', () => {
    const odd = turnsOf(333);
    expect(odd.ended.map(({ startMs, endMs, levelDbfs }) => ({ startMs, endMs, levelDbfs }))).toEqual(turnsOf(640).ended.map(({ startMs, endMs, levelDbfs }) => ({ startMs, endMs, levelDbfs })));
  });

  it('keeps at most the longest turn a script gets, but times all of it', () => {
    const ended: HeardTurn[] = [];
    const turns = new CallerTurns({ started: () => {}, ended: (turn) => ended.push(turn) }, 400);
    turns.push(audio);
    expect(ended[0]!.audio.length).toBe(400 * 16);
    expect(ended[0]!.endMs - ended[0]!.startMs).toBe(1_000);
  });
});

describe('the synthetic voice', () => {
  it('lasts as long as asked, at speech level, with pauses between words', () => {
    const voice = syntheticSpeech('Hello there.', 1_200);
    expect(voice.length).toBe(28_800);
    const rms = (from: number, to: number) => Math.sqrt(voice.subarray(from, to).reduce((sum, v) => sum + v * v, 0) / (to - from)) / 32768;
    const perCharacter = 2_400;
    expect(20 * Math.log10(rms(0, 5 * perCharacter))).toBeGreaterThan(-25); // "Hello"
    expect(rms(5 * perCharacter + 400, 6 * perCharacter)).toBeLessThan(rms(0, 5 * perCharacter) / 10); // the space
    expect(Math.abs(voice.at(-1)!)).toBeLessThan(100); // no click at the end
  });
});

describe('a scripted conversation', () => {
  const log = createLogger({ level: 'silent' });
  const settings: ConversationSettings = { agentName: 'orders', model: 'scripted', voice: undefined, instructions: 'x', tools: [], features: {} };
  let events: Array<{ atMs: number; event: ConversationEvent }>;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    events = [];
  });
  afterEach(() => vi.useRealTimers());

  function start(reply: (turn: CallerTurn) => ScriptedReply | undefined) {
    const model = createScriptedModel({ provider: 'test', script: () => ({ reply }) });
    const conversation = model.conversation(async () => settings, { log, onEvent: (event) => events.push({ atMs: performance.now(), event }) });
    return { model, conversation };
  }
  const types = () => events.map(({ event }) => event.type);

  it('answers a turn like a realtime model: a moment to think, audio ahead of playback, the turn complete when it has played', async () => {
    const { conversation, model } = start(() => ({ text: 'Hi there friend.' }));
    await conversation.start();
    const startedAt = performance.now();
    conversation.sendText('The phone call has just been connected.');
    await vi.advanceTimersByTimeAsync(149);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_500);
    // 16 characters at 60 ms: 960 ms of voice in 200 ms chunks, sent 4× faster than it plays.
    const audio = events.filter(({ event }) => event.type === 'audio');
    expect(audio.map(({ atMs }) => atMs - startedAt)).toEqual([150, 200, 250, 300, 350]);
    const sent = concat(...audio.map(({ event }) => (event as { audio: Uint8Array }).audio));
    expect(sent).toEqual(new Uint8Array(syntheticSpeech('Hi there friend.', 960).buffer));
    const said = events.filter(({ event }) => event.type === 'outputTranscript').map(({ event }) => (event as { text: string }).text);
    expect(said).toEqual(['Hi', ' there', ' friend.']);
    expect(events.find(({ event }) => event.type === 'generationComplete')!.atMs - startedAt).toBe(350);
    expect(events.at(-1)).toEqual({ atMs: startedAt + 150 + 960, event: { type: 'turnComplete' } });
    expect(model.journals[0]).toMatchObject({ agentName: 'orders', replies: [{ turn: 0, text: 'Hi there friend.', outcome: 'completed' }], interruptions: 0 });
  });

  it('calls tools first, speaks from their answers, and is cut by the caller: silently before output, else interrupted', async () => {
    const answered: ToolAnswer[][] = [];
    const { conversation, model } = start((turn) =>
      turn.kind === 'text' && turn.text === 'look it up'
        ? { text: '', toolCalls: [{ name: 'lookup', args: { code: '42' } }], afterToolAnswers: (answers) => (answered.push([...answers]), { text: 'It is shipped.' }) }
        : { text: 'Sure.' },
    );
    await conversation.start();
    conversation.sendText('look it up');
    await vi.advanceTimersByTimeAsync(150);
    expect(events.map(({ event }) => event)).toEqual([{ type: 'toolCall', calls: [{ id: 'call-1', name: 'lookup', args: { code: '42' } }] }]);
    conversation.sendToolAnswers([{ id: 'call-1', name: 'lookup', response: { output: { status: 'shipped' } } }]);
    conversation.sendToolAnswers([{ id: 'call-1', name: 'lookup', response: { output: 'again' } }]); // a repeat starts nothing twice
    await vi.advanceTimersByTimeAsync(200);
    expect(answered).toEqual([[{ id: 'call-1', name: 'lookup', response: { output: { status: 'shipped' } } }]]);
    expect(types()).toContain('audio');

    // Talking over it: interrupted, then the turn is over; the next reply comes only after the caller's turn.
    events = [];
    conversation.sendText('wait');
    expect(types()).toEqual(['interrupted', 'turnComplete']);
    // Cut again while it waits on a tool: the call is cancelled too.
    events = [];
    conversation.sendText('look it up');
    await vi.advanceTimersByTimeAsync(150);
    conversation.sendText('never mind');
    expect(types()).toEqual(['toolCall', 'interrupted', 'toolCallCancellation', 'turnComplete']);
    expect(events[2]!.event).toEqual({ type: 'toolCallCancellation', ids: ['call-2'] });
    // Cut before anything of it was sent: nothing to interrupt.
    events = [];
    conversation.sendText('hello');
    await vi.advanceTimersByTimeAsync(100);
    conversation.sendText('hello again');
    expect(events).toEqual([]);
    // Each text was a turn with a reply of its own, cut by the next one.
    const replies = model.journals[0]!.replies.map(({ text, outcome }) => [text, outcome]);
    expect(replies).toEqual([
      ['It is shipped.', 'interrupted'],
      ['Sure.', 'cancelled'],
      ['', 'interrupted'],
      ['Sure.', 'cancelled'],
      ['Sure.', 'cancelled'],
      ['Sure.', 'pending'],
    ]);
    expect(model.journals[0]!.interruptions).toBe(2);
  });

  it('hears a spoken turn, tells the call what it heard, and holds what came before it started', async () => {
    const turns: CallerTurn[] = [];
    const { conversation, model } = start((turn) => (turns.push(turn), turn.kind === 'speech' ? { text: 'Got it.' } : undefined));
    conversation.sendAudio(concat(sine(30, 500), sine(3_000, 1_000), sine(30, 700)));
    expect(turns).toEqual([]);
    await conversation.start();
    expect(turns).toEqual([{ kind: 'speech', index: 0, durationMs: 1_000, audio: expect.any(Int16Array) }]);
    expect(events[0]!.event).toEqual({ type: 'inputTranscript', text: '(caller speech 1.0 s)' });
    expect(model.journals[0]!.callerTurns[0]).toMatchObject({ kind: 'speech', startMs: 500, endMs: 1_500, heard: '(caller speech 1.0 s)' });
    expect(conversation.stats).toEqual({ connections: 1, switches: { handover: 0, connectionLost: 0, stall: 0, inaudibleAnswer: 0, rejectedTurns: 0 } });
  });

  it('never throws from a send method: a script that fails costs its reply, not the call', async () => {
    const { conversation } = start((turn) => {
      if (turn.kind === 'speech' || turn.text === 'boom') throw new Error('script bug');
      return { text: '', toolCalls: [{ name: 't', args: {} }], afterToolAnswers: () => { throw new Error('answer bug'); } };
    });
    await conversation.start();
    expect(() => conversation.sendText('boom')).not.toThrow();
    expect(() => conversation.sendAudio(concat(sine(3_000, 300), sine(0, 600)))).not.toThrow();
    conversation.sendText('tool');
    await vi.advanceTimersByTimeAsync(150);
    expect(() => conversation.sendToolAnswers([{ id: 'call-1', name: 't', response: { output: 1 } }])).not.toThrow();
    conversation.sendText('tool');
    await vi.advanceTimersByTimeAsync(150);
    expect(types().filter((type) => type === 'toolCall')).toHaveLength(2); // it still answers the next turn
  });

  it('says nothing after close, and a long-running model keeps only the latest ended journals', async () => {
    const model = createScriptedModel({ provider: 'test', script: () => ({ reply: () => ({ text: 'Hello there.' }) }), keepEndedJournals: 1 });
    for (let i = 0; i < 3; i++) {
      const conversation = model.conversation(async () => settings, { log, onEvent: (event) => events.push({ atMs: 0, event }) });
      await conversation.start();
      conversation.sendText('hi');
      conversation.close();
    }
    await vi.advanceTimersByTimeAsync(2_000);
    expect(events).toEqual([]);
    model.conversation(async () => settings, { log, onEvent: () => {} });
    expect(model.journals.map((journal) => journal.closed)).toEqual([true, false]);
  });
});
