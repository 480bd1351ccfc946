import { describe, expect, it } from 'vitest';
import { SpeechDetector, type SpeechTransition } from '../../../src/audio/speech-detector.js';
import { mulawDecodeSample, mulawEncodeSample } from '../../../src/audio/mulaw.js';
import { loadSpeechFixture } from '../../fakes/twilio/index.js';

function frames(mulaw: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 160 <= mulaw.length; i += 160) out.push(mulaw.subarray(i, i + 160));
  return out;
}

function toneFrame(amplitude: number, frequencyHz = 440): Uint8Array {
  return Uint8Array.from({ length: 160 }, (_, n) => mulawEncodeSample(Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * n) / 8000))));
}

describe('SpeechDetector', () => {
  it('finds one utterance in a recorded sentence, starting and ending near the speech', () => {
    const detector = new SpeechDetector();
    const recording = loadSpeechFixture('booking-question');
    const events: { at: number; transition: SpeechTransition }[] = [];
    const tail = new Uint8Array(160 * 50).fill(0xff); // 1 s of line silence after it
    [...frames(recording), ...frames(tail)].forEach((frame, index) => {
      const transition = detector.push(frame);
      if (transition !== undefined) events.push({ at: index * 20, transition });
    });
    expect(events.map((event) => event.transition)).toEqual(['started', 'ended']);
    expect(events[0]!.at).toBeGreaterThanOrEqual(200); // 200 ms of leading silence
    expect(events[0]!.at).toBeLessThan(400);
    expect(events[1]!.at).toBeGreaterThan(recording.length / 8); // after the speech, by the end-silence time
    expect(events[1]!.at).toBeLessThan(recording.length / 8 + 800);
  });

  it('ignores line noise and short clicks, and decodes base64 payloads', () => {
    const detector = new SpeechDetector();
    const noise = toneFrame(20); // about -64 dBFS
    for (let i = 0; i < 100; i++) expect(detector.push(noise)).toBeUndefined();
    const loud = toneFrame(8000);
    expect(detector.push(loud)).toBeUndefined(); // one 20 ms click
    expect(detector.push(noise)).toBeUndefined();
    const transitions = [loud, loud, loud, loud, loud].map((frame) => detector.pushBase64(Buffer.from(frame).toString('base64')));
    expect(transitions.filter((t) => t !== undefined)).toEqual(['started']);
    expect(detector.isSpeaking).toBe(true);
  });

  it('takes frames of any audio by their mean square, deciding exactly as for mu-law, and says how late it reports', () => {
    const mulaw = new SpeechDetector();
    const energy = new SpeechDetector();
    const frames = [...Array(10).fill(toneFrame(20)), ...Array(20).fill(toneFrame(8000)), ...Array(50).fill(toneFrame(20))] as Uint8Array[];
    for (const frame of frames) {
      const meanSquare = frame.reduce((sum, code) => sum + mulawDecodeSample(code) ** 2, 0) / frame.length;
      expect(energy.pushMeanSquare(meanSquare)).toBe(mulaw.push(frame));
    }
    expect(mulaw.startDelayMs).toBe(100);
    expect(mulaw.endDelayMs).toBe(700);
    expect(new SpeechDetector({ startMs: 60, endSilenceMs: 500 })).toMatchObject({ startDelayMs: 60, endDelayMs: 500 });
  });
});
