import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ToneDetector } from '../../../src/audio/tone-detector.js';
import { CalleeListener } from '../../../src/outbound/callee-listener.js';
import { ANSWERING_MACHINE_CORPUS_DIR, loadAnsweringMachineAudio, loadAnsweringMachineCorpus } from '../../support/answering-machine-corpus.js';

/** The committed corpus and its labels agree (scripts/make-answering-machine-corpus.ts writes both), and our own detectors hear what the labels say. */
describe('answering-machine corpus', () => {
  const corpus = loadAnsweringMachineCorpus();

  it('has every kind of answer, and audio exactly as long as its labels say', () => {
    expect(new Set(corpus.scenes.map((s) => s.answeredBy))).toEqual(new Set(['human', 'machine', 'screener', 'fax']));
    for (const scene of corpus.scenes) {
      expect(statSync(`${ANSWERING_MACHINE_CORPUS_DIR}${scene.file}`).size, scene.name).toBe(scene.durationMs * 8);
      for (const utterance of scene.speech) expect(utterance.endMs > utterance.startMs && utterance.endMs <= scene.durationMs, scene.name).toBe(true);
      if (scene.answeredBy === 'machine') expect(scene.recordingStartsAtMs, scene.name).toBe(scene.beep?.endMs ?? scene.speech.at(-1)?.endMs);
    }
  });

  it('gives the tone detector every labelled beep within 40 ms of its end, every fax tone, and nothing else', () => {
    for (const scene of corpus.scenes) {
      const audio = loadAnsweringMachineAudio(scene);
      const detector = new ToneDetector();
      const heard: Array<{ tone: string; atMs: number; frequencyHz: number }> = [];
      for (let offset = 0; offset + 160 <= audio.length; offset += 160) {
        const tone = detector.push(audio.subarray(offset, offset + 160));
        if (tone !== undefined) heard.push({ tone, atMs: offset / 8 + 20, frequencyHz: detector.toneFrequencyHz });
      }
      const expected = scene.beep === undefined ? (scene.faxTone === undefined ? [] : ['fax']) : Array<string>(scene.beep.count).fill('beep');
      expect(heard.map((h) => h.tone), scene.name).toEqual(expected);
      if (scene.beep !== undefined) {
        const last = heard.at(-1)!;
        expect(Math.abs(last.atMs - scene.beep.endMs), scene.name).toBeLessThanOrEqual(40);
        expect(Math.abs(last.frequencyHz - scene.beep.frequencyHz), scene.name).toBeLessThanOrEqual(scene.beep.frequencyHz * 0.01);
      }
    }
  });

  // Among other voices (babble) a person never seems to pause: there the transcript, Twilio or LISTEN_TIMEOUT_MS decide.
  it('introduces to every person in quiet or steady noise within 2 s of their hello, without the transcript or Twilio', () => {
    const people = corpus.scenes.filter((s) => s.answeredBy === 'human' && s.speech[0]!.startMs < 2_000 && s.background?.kind !== 'babble');
    expect(people.length).toBeGreaterThanOrEqual(10);
    for (const scene of people) {
      const audio = loadAnsweringMachineAudio(scene);
      const listener = new CalleeListener('voicemail');
      let introducedAtMs: number | undefined;
      for (let offset = 0, nowMs = 20; offset + 160 <= audio.length && introducedAtMs === undefined; offset += 160, nowMs += 20) {
        if (listener.frame(nowMs, audio.subarray(offset, offset + 160)).includes('introduce')) introducedAtMs = nowMs;
      }
      expect(introducedAtMs, scene.name).toBeDefined();
      expect(introducedAtMs! - scene.speech[0]!.endMs, scene.name).toBeLessThanOrEqual(2_000);
      expect(introducedAtMs!, scene.name).toBeGreaterThan(scene.speech[0]!.endMs);
    }
  });
});
