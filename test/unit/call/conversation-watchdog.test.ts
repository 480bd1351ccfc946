import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CUES } from '../../../src/agents/agent.js';
import { ConversationWatchdog } from '../../../src/call/conversation-watchdog.js';

const LIMITS = { stallTimeoutMs: 5_000, silenceTimeoutMs: 20_000, maxCallDurationMs: 600_000 };

function setup() {
  const actions = { cue: vi.fn(), resumeSession: vi.fn(), hangUpAfterGoodbye: vi.fn() };
  const watchdog = new ConversationWatchdog(LIMITS, actions);
  watchdog.start();
  return { watchdog, actions };
}

describe('ConversationWatchdog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('cues a stalled model, then resumes the session, and stops once agent audio flows', () => {
    const { watchdog, actions } = setup();
    watchdog.callerSpeechStarted();
    watchdog.callerSpeechEnded();
    vi.advanceTimersByTime(4_999);
    expect(actions.cue).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(actions.cue).toHaveBeenCalledWith(DEFAULT_CUES.stall);
    vi.advanceTimersByTime(5_000);
    expect(actions.resumeSession).toHaveBeenCalledTimes(1);
    watchdog.agentActive();
    vi.advanceTimersByTime(60_000);
    expect(actions.resumeSession).toHaveBeenCalledTimes(1);
    expect(watchdog.stats.stalls).toBe(2);
    watchdog.dispose();
  });

  it('gives up after a bounded number of resumes for one caller turn', () => {
    const { watchdog, actions } = setup();
    watchdog.callerSpeechStarted();
    watchdog.callerSpeechEnded();
    vi.advanceTimersByTime(5_000 * 10);
    expect(actions.cue).toHaveBeenCalledTimes(1);
    expect(actions.resumeSession).toHaveBeenCalledTimes(2);
    watchdog.dispose();
  });

  it('treats an empty model turn after the caller spoke as a stall and cues at once', () => {
    const { watchdog, actions } = setup();
    watchdog.callerSpeechStarted(); // the model may answer (emptily) before the caller's speech is over
    watchdog.agentTurnComplete(false, 0);
    expect(actions.cue).toHaveBeenCalledWith(DEFAULT_CUES.emptyTurn);
    expect(watchdog.stats).toMatchObject({ emptyTurns: 1, stalls: 1 });
    // An interrupted turn is not empty.
    watchdog.callerSpeechStarted();
    watchdog.agentTurnComplete(true, 0);
    expect(watchdog.stats.emptyTurns).toBe(1);
    watchdog.dispose();
  });

  it('checks in once after silence, then says goodbye; caller speech resets it', () => {
    const { watchdog, actions } = setup();
    watchdog.agentActive();
    watchdog.agentTurnComplete(false, 3_000); // the caller still hears 3 s of the reply
    vi.advanceTimersByTime(22_999);
    expect(actions.cue).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(actions.cue).toHaveBeenCalledWith(DEFAULT_CUES.silenceCheckIn);
    // The caller answers: the clock starts over, and the next silence prompts again.
    watchdog.callerSpeechStarted();
    watchdog.callerSpeechEnded();
    watchdog.agentActive();
    watchdog.agentTurnComplete(false, 0);
    vi.advanceTimersByTime(20_000);
    expect(actions.cue).toHaveBeenCalledTimes(2);
    // The prompt's turn completes and nobody speaks: goodbye.
    watchdog.agentActive();
    watchdog.agentTurnComplete(false, 0);
    vi.advanceTimersByTime(20_000);
    expect(actions.hangUpAfterGoodbye).toHaveBeenCalledWith(DEFAULT_CUES.silenceGoodbye, 'silence');
    watchdog.dispose();
  });

  it('says goodbye at the maximum call duration', () => {
    const { watchdog, actions } = setup();
    vi.advanceTimersByTime(600_000);
    expect(actions.hangUpAfterGoodbye).toHaveBeenCalledWith(DEFAULT_CUES.maxDurationGoodbye, 'max-duration');
    watchdog.dispose();
  });

  it("speaks the agent's own cues when it has them", () => {
    const actions = { cue: vi.fn(), resumeSession: vi.fn(), hangUpAfterGoodbye: vi.fn() };
    const cues = { ...DEFAULT_CUES, stall: 'Antworte jetzt bitte.', maxDurationGoodbye: 'Die Zeit ist um: verabschiede dich.' };
    const watchdog = new ConversationWatchdog(LIMITS, actions, cues);
    watchdog.start();
    watchdog.callerSpeechStarted();
    watchdog.callerSpeechEnded();
    vi.advanceTimersByTime(5_000);
    expect(actions.cue).toHaveBeenCalledWith('Antworte jetzt bitte.');
    vi.advanceTimersByTime(600_000);
    expect(actions.hangUpAfterGoodbye).toHaveBeenCalledWith('Die Zeit ist um: verabschiede dich.', 'max-duration');
    watchdog.dispose();
  });
});
