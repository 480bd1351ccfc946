import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpeechFixture } from '../fakes/twilio/index.js';
import { sleep, startBridge, type Bridge } from '../support/bridge-harness.js';

// ~7 s of synthesized speech at the fake's 60 ms per character: long enough to talk over.
const LONG_GREETING = 'Thanks for calling the Blue Door restaurant on Market Street, this is the reservations line. How may I help?';
const SHORT_ANSWER = 'Sure, what time works better?';

describe('barge-in', () => {
  let bridge: Bridge;

  beforeAll(async () => {
    bridge = await startBridge({ gemini: { replies: ({ source }) => ({ text: source === 'text' ? LONG_GREETING : SHORT_ANSWER }) } });
  });
  afterAll(async () => bridge.stop());

  it('clears Twilio at once, drops the interrupted turn, ignores clear-returned marks, and plays the next turn', async () => {
    const { callSid, twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);

    // Let the greeting play for a while: all of it has arrived (the model sends faster than real time).
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    await sleep(1_500);
    const greeting = session.modelTurns[0]!;
    expect(greeting.outcome).toBe('pending');

    // The caller talks over the agent.
    const speaking = twilio.playCallerAudio(loadSpeechFixture('barge-in'));
    const clear = await twilio.waitForClear({ timeoutMs: 3_000 });
    expect(greeting.outcome).toBe('interrupted');
    expect(clear.discardedBytes).toBeGreaterThan(8 * 1_000); // seconds of greeting never reached the caller
    const heardAtClear = twilio.heardAudio.length;
    const greetingSentMs = (greeting.audioSamplesSent / 24_000) * 1000;
    expect(heardAtClear / 8).toBeLessThan(greetingSentMs - 1_000);

    // Every mark pending at the clear came back as cleared, and none was counted as heard.
    const log = await bridge.waitForLog((line) => line.msg === 'caller interrupted the agent' && line.callSid === callSid);
    expect(log.turn).toBe(1);
    // An info line: what the agent was saying is personal data and stays out of it (LOG_TRANSCRIPTS=1 lets it in).
    expect(log.level).toBe(30);
    expect(log).not.toHaveProperty('agentSaid');
    expect(log.sentMs).toBeGreaterThan(log.heardMs as number);
    // What the bridge believes was heard matches what the caller's phone played, within one 200 ms model chunk.
    expect(Math.abs((log.heardMs as number) - heardAtClear / 8)).toBeLessThanOrEqual(220);
    expect(twilio.marksEchoed.filter((mark) => mark.outcome === 'cleared').length).toBeGreaterThan(0);

    // The next turn plays normally and in full.
    await speaking;
    await session.waitUntil((s) => s.modelTurns.length === 2 && s.modelTurns[1]!.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const answerMs = (session.modelTurns[1]!.audioSamples / 24_000) * 1000;
    const heardAfterClear = (twilio.heardAudio.length - heardAtClear) / 8;
    expect(heardAfterClear).toBeGreaterThanOrEqual(answerMs - 1);
    expect(heardAfterClear).toBeLessThanOrEqual(answerMs + 20);
    // No audio of the interrupted turn arrived after the clear: all media after it is the answer.
    const mediaAfterClearMs = twilio.receivedMedia.filter((m) => m.atMs >= clear.atMs).reduce((sum, m) => sum + m.bytes.length, 0) / 8;
    expect(mediaAfterClearMs).toBeLessThanOrEqual(answerMs + 20);

    await twilio.hangUp();
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ interruptions: 1, agentTurns: 2 });
    expect(twilio.violations).toEqual([]);
  });
});
