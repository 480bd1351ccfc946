/** Building blocks of the fake Gemini Live server: energy VAD, PCM codec, reply voice. */
import { describe, expect, it } from 'vitest';
import { AudioAccumulator, LinearResamplerTo16k, dbfs, decodePcm16Base64, encodePcm16Base64 } from '../../fakes/gemini-live/pcm.js';
import { formatDuration, parseClientFrame, pcmRateFromMime, truncateCloseReason } from '../../fakes/gemini-live/protocol.js';
import { EnergyVad, type VadEvent } from '../../fakes/gemini-live/vad.js';
import { OUTPUT_SAMPLE_RATE, splitTranscript, synthesizeSpeech } from '../../fakes/gemini-live/voice.js';

function tone(ms: number, amplitude: number): Int16Array {
  const out = new Int16Array(ms * 16);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.sin((2 * Math.PI * 300 * i) / 16000) * amplitude * 32767);
  return out;
}

/** Push audio in 20 ms pieces, as a bridge would. */
function feed(vad: EnergyVad, samples: Int16Array): VadEvent[] {
  const events: VadEvent[] = [];
  for (let i = 0; i < samples.length; i += 320) events.push(...vad.push(samples.subarray(i, i + 320)));
  return events;
}

describe('EnergyVad', () => {
  const config = { thresholdDbfs: -35, startMs: 60, endSilenceMs: 500 };

  it('finds speech boundaries on the audio timeline', () => {
    const vad = new EnergyVad(config);
    const events = [
      ...feed(vad, new Int16Array(300 * 16)),
      ...feed(vad, tone(400, 0.2)),
      ...feed(vad, new Int16Array(600 * 16)),
    ];
    expect(events).toEqual([
      { type: 'speechStart', startMs: 300, atMs: 360 },
      { type: 'speechEnd', startMs: 300, endMs: 700, atMs: 1200 },
    ]);
  });

  it('ignores blips shorter than startMs and quiet audio below the threshold', () => {
    const vad = new EnergyVad(config);
    expect(feed(vad, tone(40, 0.5))).toEqual([]);
    expect(feed(vad, new Int16Array(320))).toEqual([]);
    expect(feed(vad, tone(1000, 0.01))).toEqual([]); // ≈ −43 dBFS
  });

  it('bridges pauses shorter than endSilenceMs and is independent of chunking', () => {
    const audio = new Int16Array([...tone(300, 0.2), ...new Int16Array(300 * 16), ...tone(300, 0.2), ...new Int16Array(520 * 16)]);
    const whole = new EnergyVad(config).push(audio);
    const pieces = feed(new EnergyVad(config), audio);
    expect(whole).toEqual(pieces);
    expect(whole.map((e) => e.type)).toEqual(['speechStart', 'speechEnd']);
    expect(whole[1]).toMatchObject({ startMs: 0, endMs: 900 });
  });

  it('flush() ends speech in progress', () => {
    const vad = new EnergyVad(config);
    feed(vad, tone(250, 0.2));
    expect(vad.flush()).toEqual([{ type: 'speechEnd', startMs: 0, endMs: 250, atMs: 250 }]);
    expect(vad.flush()).toEqual([]);
  });
});

describe('PCM helpers', () => {
  it('round-trips PCM16LE through base64, explicitly little-endian', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 256]);
    const b64 = encodePcm16Base64(samples);
    expect(Buffer.from(b64, 'base64')).toEqual(Buffer.from([0, 0, 1, 0, 255, 255, 255, 127, 0, 128, 0, 1]));
    expect(decodePcm16Base64(b64)).toEqual(samples);
  });

  it('accumulates and measures received audio', () => {
    const acc = new AudioAccumulator();
    for (let i = 0; i < 100; i++) acc.append(tone(20, 0.5));
    expect(acc.seconds).toBe(2);
    expect(acc.dbfs()).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 1);
    expect(acc.slice(500, 1000)).toHaveLength(8000);
  });

  it('resamples 8 kHz to 16 kHz statefully', () => {
    const r = new LinearResamplerTo16k(8000);
    let total = 0;
    for (let i = 0; i < 50; i++) total += r.process(new Int16Array(160).fill(1000)).length;
    expect(Math.abs(total - 16000)).toBeLessThanOrEqual(2);
  });
});

describe('reply voice', () => {
  it('lasts 60 ms per character at 24 kHz with speech-like level', () => {
    const audio = synthesizeSpeech('Hello there');
    expect(audio.length).toBe(11 * 1440); // 60 ms at 24 kHz = 1440 samples per character
    expect(OUTPUT_SAMPLE_RATE).toBe(24000);
    expect(dbfs(audio)).toBeGreaterThan(-30);
    expect(dbfs(audio)).toBeLessThan(-10);
    expect(synthesizeSpeech('')).toHaveLength(0);
  });

  it('splits transcripts into space-led fragments', () => {
    expect(splitTranscript('We could talk.')).toEqual(['We', ' could', ' talk.']);
  });
});

describe('protocol helpers', () => {
  it('formats durations and parses PCM mime types', () => {
    expect(formatDuration(50)).toBe('50s');
    expect(formatDuration(0.25)).toBe('0.25s');
    expect(pcmRateFromMime('audio/pcm;rate=16000')).toBe(16000);
    expect(pcmRateFromMime('audio/pcm')).toBe(16000);
    expect(pcmRateFromMime('audio/pcm; rate=8000')).toBe(8000);
    expect(pcmRateFromMime('audio/x-mulaw')).toBeUndefined();
  });

  it('keeps close reasons within 123 bytes', () => {
    expect(Buffer.byteLength(truncateCloseReason('é'.repeat(100)))).toBeLessThanOrEqual(123);
  });

  it('parses realtimeInput variants and rejects bad ones', () => {
    expect(parseClientFrame('{"realtimeInput":{"audioStreamEnd":true}}')).toEqual({
      ok: true,
      message: { kind: 'realtimeInput', input: { type: 'audioStreamEnd' } },
    });
    expect(parseClientFrame('{"realtimeInput":{"audio":{"data":"!!","mimeType":"audio/pcm"}}}')).toMatchObject({
      ok: false,
      close: { code: 1007 },
    });
    expect(parseClientFrame('{"toolResponse":{"functionResponses":[{"name":"x","response":{}}]}}')).toMatchObject({
      ok: false,
      close: { code: 1007 },
    });
  });
});
