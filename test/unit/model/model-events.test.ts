import type { LiveServerMessage } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { parseDurationMs, toModelEvents } from '../../../src/model/gemini-live-session.js';
import { buildLiveConnectConfig } from '../../../src/model/live-config.js';

const message = (raw: object) => raw as LiveServerMessage;

describe('toModelEvents', () => {
  it('reads every field of one serverContent, audio parts included', () => {
    const events = toModelEvents(
      message({
        serverContent: {
          modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: 'AAAA' } }, { text: 'thinking' }, { inlineData: { mimeType: 'audio/pcm', data: 'BBBB' } }] },
          outputTranscription: { text: ' hello' },
          inputTranscription: { text: 'hi' },
          generationComplete: true,
          turnComplete: true,
        },
      }),
    );
    expect(events.map((event) => event.type)).toEqual(['inputTranscript', 'audio', 'audio', 'outputTranscript', 'generationComplete', 'turnComplete']);
  });

  it('reads barge-in, tools, goAway and resumption updates', () => {
    expect(toModelEvents(message({ serverContent: { interrupted: true } }))).toEqual([{ type: 'interrupted' }]);
    expect(toModelEvents(message({ toolCall: { functionCalls: [{ id: 'function-call-1', name: 'find_booking', args: { code: 'K7Q2M9' } }] } }))).toEqual([
      { type: 'toolCall', calls: [{ id: 'function-call-1', name: 'find_booking', args: { code: 'K7Q2M9' } }] },
    ]);
    expect(toModelEvents(message({ toolCallCancellation: { ids: ['function-call-1'] } }))).toEqual([{ type: 'toolCallCancellation', ids: ['function-call-1'] }]);
    expect(toModelEvents(message({ goAway: { timeLeft: '50s' } }))).toEqual([{ type: 'goAway', timeLeftMs: 50_000 }]);
    expect(toModelEvents(message({ sessionResumptionUpdate: { newHandle: 'h1', resumable: true } }))).toEqual([{ type: 'resumptionUpdate', handle: 'h1', resumable: true }]);
    expect(toModelEvents(message({ sessionResumptionUpdate: { resumable: false } }))).toEqual([{ type: 'resumptionUpdate', handle: undefined, resumable: false }]);
    expect(toModelEvents(message({ setupComplete: {} }))).toEqual([]);
  });

  it('reads the real service\'s message shapes (docs/real-service-behaviour.md)', () => {
    // turnComplete sharing a message with usageMetadata
    expect(toModelEvents(message({ serverContent: { turnComplete: true }, usageMetadata: { totalTokenCount: 546 } }))).toEqual([{ type: 'turnComplete', reason: undefined }]);
    // usage alone (incremental), a bare {}, voiceActivity beside an empty serverContent: nothing for the call
    expect(toModelEvents(message({ usageMetadata: { totalTokenCount: 12 } }))).toEqual([]);
    expect(toModelEvents(message({}))).toEqual([]);
    expect(toModelEvents(message({ serverContent: {}, voiceActivity: { voiceActivityType: 'ACTIVITY_START', audioOffset: '8.400s' } }))).toEqual([]);
    // outputTranscription and generationComplete in one message, no modelTurn; finished: null
    expect(toModelEvents(message({ serverContent: { outputTranscription: { text: ' Goodbye!', finished: null }, generationComplete: true } }))).toEqual([
      { type: 'outputTranscript', text: ' Goodbye!' },
      { type: 'generationComplete' },
    ]);
    // interim input transcripts repeat the segment so far: not taken as more speech
    expect(toModelEvents(message({ serverContent: { interimInputTranscription: { text: 'I would like' } } }))).toEqual([]);
    // several calls in one toolCall, ids of mixed formats, kept verbatim
    expect(toModelEvents(message({ toolCall: { functionCalls: [{ id: 'function-call-18446744073709551615', name: 'a', args: {} }, { id: '3f9c1a7b', name: 'b' }] } }))).toEqual([
      { type: 'toolCall', calls: [{ id: 'function-call-18446744073709551615', name: 'a', args: {} }, { id: '3f9c1a7b', name: 'b', args: {} }] },
    ]);
    // sessionResumptionUpdate without a handle (while generating)
    expect(toModelEvents(message({ sessionResumptionUpdate: {} }))).toEqual([{ type: 'resumptionUpdate', handle: undefined, resumable: false }]);
  });

  it('parses protobuf durations', () => {
    expect(parseDurationMs('50s')).toBe(50_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('oops')).toBeUndefined();
  });
});

describe('buildLiveConnectConfig', () => {
  it('asks for audio, the voice, transcripts both ways, resumption and compression', () => {
    const config = buildLiveConnectConfig({ voice: 'Puck', instructions: 'Be brief.' });
    expect(config).toMatchObject({
      responseModalities: ['AUDIO'],
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
      systemInstruction: 'Be brief.',
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      sessionResumption: {},
      contextWindowCompression: { triggerTokens: '25600', slidingWindow: { targetTokens: '12800' } },
    });
    expect(buildLiveConnectConfig({ voice: 'Puck', instructions: '', resumptionHandle: 'h' }).sessionResumption).toEqual({ handle: 'h' });
  });
});
