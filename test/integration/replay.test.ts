import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpeechFixture, speechFixtureManifest, type SpeechFixtureName } from '../fakes/twilio/index.js';
import { activeMs, bestAlignment, decodeMulawReference, energyDb, rmsEnvelope } from '../support/audio-compare.js';
import { startBridge, type Bridge } from '../support/bridge-harness.js';

/**
 * Replays recorded caller speech (espeak-ng, made by scripts/make-fixtures.sh) through the whole
 * bridge and compares both ends against references computed without our DSP: the model must hear
 * the caller's words (same loudness envelope, level and duration), and the caller must hear the
 * model's reply in full.
 */
describe('replay of recorded caller speech', () => {
  let bridge: Bridge;

  beforeAll(async () => {
    bridge = await startBridge({ gemini: { replies: ({ source }) => ({ text: source === 'text' ? 'Hi there.' : 'Got it, one moment please.' }) } });
  });
  afterAll(async () => bridge.stop());

  it.each<SpeechFixtureName>(['booking-question', 'barge-in', 'short-hello'])('%s: the model hears the recording and the caller hears the reply', async (name) => {
    const sessionIndex = bridge.gemini.sessions.length;
    const { twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(sessionIndex);
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);

    const recording = loadSpeechFixture(name);
    const audioBefore = session.receivedAudio16k.seconds * 1000;
    const heardBefore = twilio.heardAudio.length;
    await twilio.playCallerAudio(recording);
    await session.waitUntil((s) => s.modelTurns.length === 2 && s.modelTurns[1]!.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);

    // What the model heard, aligned against the recording decoded by the reference codec.
    const reference = decodeMulawReference(recording);
    const heardByModel = session.receivedAudio16k.slice(audioBefore - 200, audioBefore + (reference.length / 8) + 400);
    const referenceEnvelope = rmsEnvelope(reference, 8_000, 10);
    const modelEnvelope = rmsEnvelope(heardByModel, 16_000, 10);
    const { correlation } = bestAlignment(referenceEnvelope, modelEnvelope, 60);
    expect(correlation).toBeGreaterThan(0.98);
    const speechMs = activeMs(rmsEnvelope(reference, 8_000), 20, -40);
    expect(Math.abs(activeMs(rmsEnvelope(heardByModel, 16_000), 20, -40) - speechMs)).toBeLessThanOrEqual(100); // window edges near the threshold may flip after the 1.4 ms filter delay
    // Level is preserved through decode and the x2 filter: the same energy per second of speech.
    expect(Math.abs(energyDb(heardByModel, 16_000) - energyDb(reference, 8_000))).toBeLessThan(0.5);

    // The fake model took exactly one turn for the recording, spanning its speech.
    const turn = session.turns.filter((t) => t.source === 'audio').at(-1)!;
    expect(turn.audioEndMs! - turn.audioStartMs!).toBeGreaterThan(speechMs * 0.8);

    // What the caller heard: the whole reply, sample-count exact up to one padded frame.
    const replyMs = (session.modelTurns[1]!.audioSamples / 24_000) * 1000;
    const heardMs = (twilio.heardAudio.length - heardBefore) / 8;
    expect(heardMs).toBeGreaterThanOrEqual(replyMs - 1);
    expect(heardMs).toBeLessThanOrEqual(replyMs + 20);

    expect(speechFixtureManifest()[name].bytes).toBe(recording.length);
    await twilio.hangUp();
    expect(twilio.violations).toEqual([]);
  });
});
