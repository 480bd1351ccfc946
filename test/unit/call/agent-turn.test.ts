import { describe, expect, it } from 'vitest';
import { AgentTurn, LATE_AUDIO_WINDOW_MS } from '../../../src/call/agent-turn.js';

describe('AgentTurn: turn ends', () => {
  it('documented order: ends once, at generationComplete; the turnComplete after it is not a second turn', () => {
    const t = new AgentTurn();
    expect(t.audio(0, 200)).toEqual({ play: true });
    expect(t.audio(10, 200)).toEqual({ play: true });
    expect(t.generationComplete()).toEqual({ generation: 1, interrupted: false, by: 'generationComplete', hadContent: true });
    expect(t.turnComplete()).toBeUndefined();
  });

  it('generationComplete only: every turn still ends, and the next audio starts a new turn', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    expect(t.generationComplete()).toMatchObject({ generation: 1, by: 'generationComplete', hadContent: true });
    expect(t.audio(1000, 200)).toEqual({ play: true });
    expect(t.generationComplete()).toMatchObject({ generation: 2, by: 'generationComplete', hadContent: true });
    expect(t.latestGeneration).toBe(2);
  });

  it('turnComplete only: ends at turnComplete', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    expect(t.turnComplete()).toEqual({ generation: 1, interrupted: false, by: 'turnComplete', hadContent: true });
  });

  it('the empty turn: a turnComplete with nothing before it ends an empty turn', () => {
    const t = new AgentTurn();
    expect(t.turnComplete()).toEqual({ generation: 1, interrupted: false, by: 'turnComplete', hadContent: false });
    // generationComplete + turnComplete with nothing in them: one empty turn (a generation of its own).
    expect(t.generationComplete()).toEqual({ generation: 2, interrupted: false, by: 'generationComplete', hadContent: false });
    expect(t.turnComplete()).toBeUndefined();
  });

  it('a tool call is content: a turnComplete right after it is not an empty turn', () => {
    const t = new AgentTurn();
    expect(t.toolCall()).toBeUndefined();
    expect(t.turnComplete()).toEqual({ generation: 1, interrupted: false, by: 'turnComplete', hadContent: true });
  });
});

describe('AgentTurn: interruptions', () => {
  it('documented barge-in: interrupted → turnComplete ends the cut turn; the next reply plays', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    expect(t.interrupted(100)).toEqual({ bargeIn: true, newTurnCut: true });
    expect(t.turnComplete()).toEqual({ generation: 1, interrupted: true, by: 'turnComplete', hadContent: true });
    expect(t.audio(150, 200)).toEqual({ play: true });
    expect(t.latestGeneration).toBe(2);
  });

  it('drops audio of the cut generation that is still in flight right after interrupted', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.interrupted(1000);
    expect(t.audio(1000, 200)).toEqual({ play: false });
    expect(t.audio(1000 + LATE_AUDIO_WINDOW_MS - 1, 200)).toEqual({ play: false });
    expect(t.turnComplete()).toMatchObject({ interrupted: true });
  });

  it('a lone interrupted (no turnComplete): the reply after the caller spoke plays, and the cut turn ends first', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.interrupted(1000);
    t.callerSpeechEnded(1600);
    expect(t.audio(1650, 200)).toEqual({ play: true, ended: { generation: 1, interrupted: true, by: 'nextGeneration', hadContent: true } });
    expect(t.audio(1700, 200)).toEqual({ play: true });
    expect(t.generationComplete()).toEqual({ generation: 2, interrupted: false, by: 'generationComplete', hadContent: true });
  });

  it('a lone interrupted with no caller speech: audio well after the cut is a new generation', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.interrupted(1000);
    expect(t.audio(1000 + LATE_AUDIO_WINDOW_MS, 200)).toMatchObject({ play: true, ended: { by: 'nextGeneration' } });
  });

  it('the window is measured from the cut, not chained: a reply streaming right after a cut is not silenced whole', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.interrupted(0);
    const played: boolean[] = [];
    for (let at = 0; at < 2000; at += 50) played.push(t.audio(at, 200).play);
    expect(played.filter((p) => !p).length).toBe(LATE_AUDIO_WINDOW_MS / 50);
  });

  it('caller speech that ended before the cut does not count', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.callerSpeechEnded(500);
    t.interrupted(1000);
    expect(t.audio(1010, 200)).toEqual({ play: false });
  });

  it('a tool call after a cut starts a new generation (and ends the cut one)', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.interrupted(10);
    expect(t.toolCall()).toMatchObject({ interrupted: true, by: 'nextGeneration' });
    expect(t.audio(20, 200)).toEqual({ play: true });
  });

  it('a lone interrupted after turnComplete cuts nothing: no barge-in, and the next reply plays', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.generationComplete();
    t.turnComplete();
    expect(t.interrupted(100)).toEqual({ bargeIn: false, reason: 'nothing-playing' });
    expect(t.audio(150, 200)).toEqual({ play: true });
  });

  it('interrupted during the tail (after generationComplete): barge-in, but not a second turn', () => {
    const t = new AgentTurn();
    t.audio(0, 2000);
    expect(t.generationComplete()).toMatchObject({ interrupted: false });
    expect(t.interrupted(100)).toEqual({ bargeIn: true, newTurnCut: false });
    expect(t.turnComplete()).toBeUndefined();
    expect(t.audio(5000, 200)).toEqual({ play: true });
  });

  it('interrupted after generationComplete once the model\'s real-time playback has run out cuts nothing (generationComplete-only phantom)', () => {
    const t = new AgentTurn();
    t.audio(0, 1000);
    t.audio(10, 1000);
    t.generationComplete();
    expect(t.interrupted(1800)).toEqual({ bargeIn: false, reason: 'nothing-playing' });
    expect(t.audio(3000, 200)).toEqual({ play: true });
  });

  it('a repeated interrupted is ignored', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.interrupted(10);
    expect(t.interrupted(20)).toEqual({ bargeIn: false, reason: 'already-cut' });
  });
});

describe('AgentTurn: the call cuts the agent itself (local turn detection)', () => {
  it('drops everything the model sends until it confirms with interrupted, then the in-flight window from there', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.cut(1_000);
    // The model has not heard activityStart yet: however long that takes, its audio is late.
    expect(t.audio(1_100, 200)).toEqual({ play: false });
    expect(t.audio(1_000 + LATE_AUDIO_WINDOW_MS + 500, 200)).toEqual({ play: false });
    // Its own interrupted confirms the cut: no second barge-in, and what was in flight behind it is late too.
    expect(t.interrupted(3_000)).toEqual({ bargeIn: false, reason: 'already-cut' });
    expect(t.audio(3_000 + LATE_AUDIO_WINDOW_MS - 1, 200)).toEqual({ play: false });
    expect(t.audio(3_000 + LATE_AUDIO_WINDOW_MS, 200)).toMatchObject({ play: true, ended: { interrupted: true, by: 'nextGeneration' } });
  });

  it('the reply after the caller finished plays at once, confirmed or not (the model answers only after activityEnd)', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.cut(1_000);
    t.callerSpeechEnded(2_500);
    expect(t.audio(2_600, 200)).toMatchObject({ play: true, ended: { interrupted: true } });
  });

  it('the cut turn ends once: by the model\'s turnComplete, as a cut turn', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.cut(500);
    t.interrupted(600);
    expect(t.turnComplete()).toEqual({ generation: 1, interrupted: true, by: 'turnComplete', hadContent: true });
    expect(t.audio(700, 200)).toEqual({ play: true });
  });

  it('a generation already complete cannot send more: nothing awaits the model, only the window from the cut', () => {
    const t = new AgentTurn();
    t.audio(0, 200);
    t.generationComplete();
    t.cut(100);
    expect(t.audio(100 + LATE_AUDIO_WINDOW_MS, 200)).toEqual({ play: true });
  });

  it('with nothing being generated, a cut marks nothing', () => {
    const t = new AgentTurn();
    t.cut(0);
    expect(t.audio(10, 200)).toEqual({ play: true });
    expect(t.cutInProgress).toBe(false);
  });
});
