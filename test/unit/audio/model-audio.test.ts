import { describe, expect, it } from 'vitest';
import { CallerToModelAudio } from '../../../src/audio/caller-to-model.js';
import { agentAudioConverter, bytesPerMs, callerAudioConverter } from '../../../src/audio/model-audio.js';
import { ModelToCallerAudio } from '../../../src/audio/model-to-caller.js';
import { loadSpeechFixture } from '../../fakes/twilio/index.js';

describe('audio for the format a model declares', () => {
  const frame = loadSpeechFixture('short-hello').subarray(1_600, 1_760);

  it("converts the phone's mu-law to 16 kHz PCM16 and 24 kHz PCM16 back, as the PCM pipelines do", () => {
    const toModel = callerAudioConverter({ encoding: 'pcm16le', sampleRateHz: 16_000 });
    expect(toModel).toBeInstanceOf(CallerToModelAudio);
    expect(toModel.convert(frame)).toHaveLength(640); // 20 ms at 16 kHz, 2 bytes a sample
    const toCaller = agentAudioConverter({ encoding: 'pcm16le', sampleRateHz: 24_000 });
    expect(toCaller).toBeInstanceOf(ModelToCallerAudio);
    expect(toCaller.convert(new Uint8Array(960))).toHaveLength(160); // 20 ms at 24 kHz → 8 kHz mu-law
  });

  it('passes mu-law through untouched both ways, for a model that speaks the phone line', () => {
    const mulaw = { encoding: 'mulaw', sampleRateHz: 8_000 } as const;
    expect(callerAudioConverter(mulaw).convert(frame)).toBe(frame);
    const agent = agentAudioConverter(mulaw);
    expect(agent.convert(frame)).toBe(frame);
    agent.reset();
    expect(agent.convert(frame)).toEqual(frame);
  });

  it('knows how many bytes a millisecond takes in each format', () => {
    expect(bytesPerMs({ encoding: 'pcm16le', sampleRateHz: 16_000 })).toBe(32);
    expect(bytesPerMs({ encoding: 'pcm16le', sampleRateHz: 24_000 })).toBe(48);
    expect(bytesPerMs({ encoding: 'mulaw', sampleRateHz: 8_000 })).toBe(8);
  });
});
