import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agents/agent.js';
import { DEFAULT_TURN_DETECTION } from '../../src/turn-detection/caller-turn.js';
import type { FakeReply } from '../fakes/gemini-live/server.js';
import { startBridge, type Bridge } from '../support/bridge-harness.js';
import { loadSceneAgentSpeech, sceneNamed, type SceneLabels } from '../support/turn-corpus.js';
import { activityMarks, clearsOnStreamClock, phoneFor, playScene } from '../support/turn-scenes.js';

/**
 * Local turn detection end to end: the real server with an agent whose turns it detects (Silero VAD), the real
 * SDK talking to the fake Live server, and the fake Twilio playing scenes of the turn-taking corpus (synthesised
 * speech, backchannels, the agent's own echo, noise) over the agent's real audio.
 */

const TUNED_NUMBER = '+15550001111';
const ANSWER = 'Sure, what time works better?';

describe('local turn detection through the real server', () => {
  let bridge: Bridge;
  /** What the model says when the call greets it: the scene's agent audio, so the scene's echo is of it. */
  let agentSpeech: Int16Array = new Int16Array(0);

  beforeAll(async () => {
    bridge = await startBridge({
      gemini: {
        replies: ({ source }): FakeReply => (source === 'text' ? { text: 'Thanks for calling the Blue Door, how can I help?', audio: agentSpeech } : { text: ANSWER }),
      },
      agents: () => [
        defineAgent({ name: 'local-turns', instructions: 'You take bookings.', turnDetection: 'local' }),
        defineAgent({
          name: 'tuned',
          instructions: 'You take bookings.',
          phoneNumbers: [TUNED_NUMBER],
          turnTaking: { startSensitivity: 'low', endSensitivity: 'high', prefixPaddingMs: 40, silenceDurationMs: 900, callerInterrupts: false, turnCoverage: 'activity' },
          inputTranscription: { languages: ['en-US'], vocabulary: ['Blue Door'] },
        }),
      ],
    });
  });
  afterAll(async () => bridge.stop());

  async function callWith(scene: SceneLabels) {
    agentSpeech = loadSceneAgentSpeech(scene);
    const { callSid, twilio } = await bridge.placeCall(phoneFor(scene));
    const session = await bridge.gemini.waitForSession(bridge.gemini.sessions.length - 1);
    return { callSid, twilio, session };
  }

  it("the agent's turn settings reach the model's setup", async () => {
    const { callSid, twiml } = await bridge.ringWebhook({ To: TUNED_NUMBER });
    const twilio = await bridge.openStream(callSid, twiml);
    const session = await bridge.gemini.waitForSession(bridge.gemini.sessions.length - 1);
    expect(session.setup?.realtimeInputConfig).toEqual({
      automaticActivityDetection: { startOfSpeechSensitivity: 'START_SENSITIVITY_LOW', endOfSpeechSensitivity: 'END_SENSITIVITY_HIGH', prefixPaddingMs: 40, silenceDurationMs: 900 },
      activityHandling: 'NO_INTERRUPTION',
      turnCoverage: 'TURN_INCLUDES_ONLY_ACTIVITY',
    });
    expect(session.setup?.inputAudioTranscription).toEqual({ languageCodes: ['en-US'], customVocabulary: ['Blue Door'] });
    await twilio.hangUp();
  });

  it('local mode: activityStart as the caller starts, with the onset replayed after it, and activityEnd after the silence', async () => {
    const scene = sceneNamed('turn-01'); // agent silent; one sentence 800–3901 ms
    const { twilio, session } = await callWith(scene);
    expect(session.setup?.realtimeInputConfig).toEqual({ automaticActivityDetection: { disabled: true } });
    const greeted = session.turns.length;
    const played = await playScene(twilio, scene);
    await session.waitUntil((s) => s.turns.length > greeted, 5_000);

    // All on the stream's own clock (ms of caller audio), so a busy machine moves nothing.
    const [mark] = activityMarks(session);
    const sentence = scene.caller[0]!;
    const onsetMs = played.sceneStartStreamMs + sentence.startMs;
    // activityStart came once the detector was sure: two windows of speech after the onset, plus the VAD's window.
    const startDelayMs = mark!.startAudioMs - onsetMs;
    expect(startDelayMs).toBeGreaterThanOrEqual(DEFAULT_TURN_DETECTION.startSpeechMs);
    expect(startDelayMs).toBeLessThanOrEqual(200);
    // The model's turn is what followed activityStart: the onset again from just before it, then the caller live.
    const turn = session.turns.at(-1)!;
    expect(turn.source).toBe('activity');
    const audio = session.receivedAudio16k.slice(turn.audioStartMs!, turn.audioEndMs);
    const firstSpeechMs = firstLoudMs(audio);
    expect(firstSpeechMs).toBeGreaterThanOrEqual(DEFAULT_TURN_DETECTION.preRollPaddingMs - 40); // nothing clipped…
    expect(firstSpeechMs).toBeLessThanOrEqual(DEFAULT_TURN_DETECTION.preRollPaddingMs + 40); // …and no more sent again
    // activityEnd came the end silence after the caller stopped.
    const endMs = onsetMs - DEFAULT_TURN_DETECTION.preRollPaddingMs + (turn.audioEndMs! - turn.audioStartMs!);
    const endDelayMs = endMs - (played.sceneStartStreamMs + sentence.endMs);
    expect(endDelayMs).toBeGreaterThanOrEqual(DEFAULT_TURN_DETECTION.endSilenceMs - 40);
    expect(endDelayMs).toBeLessThanOrEqual(DEFAULT_TURN_DETECTION.endSilenceMs + 150);
    await twilio.hangUp();
  });

  it('a sentence over the agent: Twilio clear at its onset, the agent cut, the model told, the answer plays', async () => {
    const scene = sceneNamed('barge-in-01'); // echo −30 dB, 100 ms; "Wait, sorry, I need to change the time." 2000–4749 ms
    const { twilio, session } = await callWith(scene);
    const played = await playScene(twilio, scene);
    // Not before the caller spoke (the agent's own echo was on the line all along), and at the onset: the stream's
    // clock says how much caller audio had gone out (npm run bench measures the latency itself).
    const clearDelayMs = clearsOnStreamClock(twilio)[0]! - (played.sceneStartStreamMs + scene.caller[0]!.startMs);
    expect(clearDelayMs).toBeGreaterThan(0);
    expect(clearDelayMs).toBeLessThan(600);
    await session.waitUntil((s) => s.modelTurns[1]?.outcome === 'completed', 10_000);
    expect(session.modelTurns[0]!.outcome).toBe('interrupted');
    expect(activityMarks(session)).toHaveLength(1);
    // After the cut nothing of the greeting played again: the audio heard after the last clear is the answer.
    await twilio.waitForPlayoutIdle(10_000);
    const lastClearAtMs = twilio.clears.at(-1)!.atMs;
    const heardAfterMs = twilio.heardTimeline.filter((chunk) => chunk.atMs >= lastClearAtMs).reduce((sum, chunk) => sum + chunk.bytes.length, 0) / 8;
    const answerMs = (session.modelTurns[1]!.audioSamples / 24_000) * 1000;
    expect(heardAfterMs).toBeGreaterThanOrEqual(answerMs - 1);
    expect(heardAfterMs).toBeLessThanOrEqual(answerMs + 20);
    await twilio.hangUp();
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === (twilio.callSid as unknown));
    expect(summary).toMatchObject({ interruptions: 1 });
    expect(twilio.violations).toEqual([]);
  });

  it.each(['echo-30db-120ms', 'noise-pink-20db'])('%s during agent speech: no clear, nothing sent to the model', async (name) => {
    const scene = sceneNamed(name);
    const { twilio, session } = await callWith(scene);
    await playScene(twilio, scene);
    expect(twilio.clears).toEqual([]);
    expect(activityMarks(session)).toEqual([]);
    expect(session.modelTurns[0]!.outcome).not.toBe('interrupted');
    await twilio.hangUp();
  });

  it('backchannels over the agent: paused at most, never cut; the caller hears the whole reply', async () => {
    const scene = sceneNamed('backchannel-02'); // "uh-huh" 1600–2125 ms, "yeah" 4400–4841 ms
    const { twilio, session } = await callWith(scene);
    await playScene(twilio, scene);
    await session.waitUntil((s) => s.modelTurns[0]!.outcome === 'completed', 15_000);
    await twilio.waitForPlayoutIdle(15_000);
    expect(activityMarks(session)).toEqual([]);
    expect(session.modelTurns).toHaveLength(1);
    // Every pause resumed where it stopped: all of the reply was heard, give or take what a pause repeated.
    const replyMs = agentSpeech.length / 24;
    const heardMs = twilio.heardAudio.length / 8;
    expect(heardMs).toBeGreaterThanOrEqual(replyMs - 20);
    expect(heardMs).toBeLessThanOrEqual(replyMs + 20 + twilio.clears.length * 200);
    await twilio.hangUp();
  });
});

/** ms into 16 kHz audio where it first gets louder than −40 dBFS over 20 ms. */
function firstLoudMs(audio: Int16Array): number {
  const window = 320;
  for (let start = 0; start + window <= audio.length; start += window) {
    let sum = 0;
    for (let i = start; i < start + window; i++) sum += audio[i]! * audio[i]!;
    if (10 * Math.log10(sum / window / 32768 ** 2) > -40) return start / 16;
  }
  return Number.POSITIVE_INFINITY;
}
