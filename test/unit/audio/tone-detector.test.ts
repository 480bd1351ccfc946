import { describe, expect, it } from 'vitest';
import { mulawEncodeSample } from '../../../src/audio/mulaw.js';
import { ToneDetector, type ToneEvent } from '../../../src/audio/tone-detector.js';
import { loadSceneAudio, loadTurnCorpus } from '../../support/turn-corpus.js';

const RATE = 8000;

/** A tone of `ms` at `frequencyHz` and `amplitude`, optionally with white noise `snrDb` below it, as mu-law. */
function tone(frequencyHz: number, ms: number, { amplitude = 8000, noiseDb, phase = 0.3 }: { amplitude?: number; noiseDb?: number; phase?: number } = {}): Uint8Array {
  const noiseAmplitude = noiseDb === undefined ? 0 : (amplitude / Math.SQRT2) * 10 ** (-noiseDb / 20) * Math.sqrt(3);
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  return Uint8Array.from({ length: Math.round((ms * RATE) / 1000) }, (_, n) =>
    mulawEncodeSample(Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * n) / RATE + phase) + noiseAmplitude * (2 * random() - 1))),
  );
}

function twoTones(lowHz: number, highHz: number, ms: number): Uint8Array {
  const wave = (frequencyHz: number, n: number): number => 4000 * Math.sin((2 * Math.PI * frequencyHz * n) / RATE);
  return Uint8Array.from({ length: (ms * RATE) / 1000 }, (_, n) => mulawEncodeSample(Math.round(wave(lowHz, n) + wave(highHz, n))));
}

function silence(ms: number): Uint8Array {
  return new Uint8Array(Math.round((ms * RATE) / 1000)).fill(0xff);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Every event with the time of the frame that reported it, and the detector's tone at that moment. */
function run(audio: Uint8Array): Array<{ event: ToneEvent; atMs: number; frequencyHz: number; durationMs: number }> {
  const detector = new ToneDetector();
  const events = [];
  for (let offset = 0; offset + 160 <= audio.length; offset += 160) {
    const event = detector.push(audio.subarray(offset, offset + 160));
    if (event !== undefined) events.push({ event, atMs: offset / 8 + 20, frequencyHz: detector.toneFrequencyHz, durationMs: detector.toneDurationMs });
  }
  return events;
}

describe('ToneDetector', () => {
  it.each([440, 850, 1000, 1400, 1950])('reports a %i Hz beep once, when it stops, with its pitch and length', (frequencyHz) => {
    const events = run(concat(silence(500), tone(frequencyHz, 400), silence(500)));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'beep' });
    expect(events[0]!.frequencyHz).toBeGreaterThan(frequencyHz * 0.99);
    expect(events[0]!.frequencyHz).toBeLessThan(frequencyHz * 1.01);
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(380);
    expect(events[0]!.durationMs).toBeLessThanOrEqual(440);
    // Reported within two frames of the tone's end (900 ms into the audio).
    expect(events[0]!.atMs).toBeGreaterThanOrEqual(900);
    expect(events[0]!.atMs).toBeLessThanOrEqual(960);
  });

  it('hears a beep in line noise 20 dB below it, and a quiet one at -30 dBFS', () => {
    expect(run(concat(silence(300), tone(1000, 300, { noiseDb: 20 }), silence(300))).map((e) => e.event)).toEqual(['beep']);
    expect(run(concat(silence(300), tone(1000, 300, { amplitude: 1460 }), silence(300))).map((e) => e.event)).toEqual(['beep']);
  });

  it('ignores tones too short, too long or too faint to be a beep, and two tones at once (DTMF, ringback)', () => {
    expect(run(concat(tone(1000, 60), silence(300)))).toEqual([]);
    expect(run(concat(tone(1000, 3_000), silence(300)))).toEqual([]);
    expect(run(concat(tone(1000, 400, { amplitude: 100 }), silence(300)))).toEqual([]);
    // DTMF "1" (697 + 1209 Hz) and North American ringback (440 + 480 Hz, 2 s on).
    expect(run(concat(twoTones(697, 1209, 400), silence(300)))).toEqual([]);
    expect(run(concat(twoTones(440, 480, 2_000), silence(300)))).toEqual([]);
  });

  it('reports two beeps in a row as two', () => {
    expect(run(concat(tone(1400, 150), silence(100), tone(1400, 150), silence(300))).map((e) => e.event)).toEqual(['beep', 'beep']);
  });

  it("reports a fax machine's 2100 Hz answer tone once, before it ends, and never as a beep", () => {
    const events = run(concat(silence(200), tone(2100, 3_000), silence(500)));
    expect(events.map((e) => e.event)).toEqual(['fax']);
    expect(events[0]!.atMs).toBeLessThanOrEqual(200 + 900);
    expect(Math.abs(events[0]!.frequencyHz - 2100)).toBeLessThan(10);
  });

  it('hears no tone in speech, backchannels, echo or noise (the whole turn-taking corpus: 5 min of phone audio)', () => {
    const corpus = loadTurnCorpus();
    const heard = corpus.scenes.flatMap((scene) => run(loadSceneAudio(scene)).map((event) => ({ scene: scene.name, ...event })));
    expect(heard).toEqual([]);
  });
});
