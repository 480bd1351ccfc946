import { Behavior, FunctionResponseScheduling, Session, Type, type LiveConnectConfig, type LiveServerMessage, type Tool } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { MODEL_INPUT_MIME_TYPE, parseDurationMs, realtimeAudioMessage, toFunctionResponse, toSessionEvents } from '../../../src/model/gemini/live-session.js';
import { createGeminiModel } from '../../../src/model/gemini/gemini-model.js';
import { buildLiveConnectConfig, toFunctionDeclaration } from '../../../src/model/gemini/live-setup.js';
import type { InputTranscriptionSettings, TurnSettings } from '../../../src/model/realtime-model.js';
import { defineTool, ToolRegistry } from '../../../src/tools/tool.js';
import { lookupOrderTool as lookup } from '../../support/lookup-order-tool.js';

const message = (raw: object) => raw as LiveServerMessage;

describe('realtimeAudioMessage', () => {
  it("is byte for byte what the SDK's sendRealtimeInput writes, on the Gemini Developer API and on Vertex AI", () => {
    const pcm = Buffer.from(Int16Array.from({ length: 320 }, (_, i) => (i * 997) % 65536 - 32768).buffer);
    for (const vertex of [false, true]) {
      const written: string[] = [];
      // The SDK's Session over a stand-in connection and API client: what it sends is all that is compared.
      const session = new Session({ send: (message: string) => written.push(message) } as never, { isVertexAI: () => vertex } as never);
      session.sendRealtimeInput({ audio: { data: pcm.toString('base64'), mimeType: MODEL_INPUT_MIME_TYPE } });
      expect(realtimeAudioMessage(pcm.subarray(0, 640)).toString('utf8'), vertex ? 'Vertex AI' : 'Gemini API').toBe(written[0]);
    }
  });
});

describe('toSessionEvents', () => {
  it('reads every field of one serverContent, audio parts included', () => {
    const events = toSessionEvents(
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
    expect(toSessionEvents(message({ serverContent: { interrupted: true } }))).toEqual([{ type: 'interrupted' }]);
    expect(toSessionEvents(message({ toolCall: { functionCalls: [{ id: 'function-call-1', name: 'find_booking', args: { code: 'K7Q2M9' } }] } }))).toEqual([
      { type: 'toolCall', calls: [{ id: 'function-call-1', name: 'find_booking', args: { code: 'K7Q2M9' } }] },
    ]);
    expect(toSessionEvents(message({ toolCallCancellation: { ids: ['function-call-1'] } }))).toEqual([{ type: 'toolCallCancellation', ids: ['function-call-1'] }]);
    expect(toSessionEvents(message({ goAway: { timeLeft: '50s' } }))).toEqual([{ type: 'goAway', timeLeftMs: 50_000 }]);
    expect(toSessionEvents(message({ sessionResumptionUpdate: { newHandle: 'h1', resumable: true } }))).toEqual([{ type: 'resumptionUpdate', handle: 'h1', resumable: true }]);
    expect(toSessionEvents(message({ sessionResumptionUpdate: { resumable: false } }))).toEqual([{ type: 'resumptionUpdate', handle: undefined, resumable: false }]);
    expect(toSessionEvents(message({ setupComplete: {} }))).toEqual([]);
  });

  it('reads the real service\'s message shapes (docs/real-service-behaviour.md)', () => {
    // turnComplete sharing a message with usageMetadata, and the reason a turn ended, for logs
    expect(toSessionEvents(message({ serverContent: { turnComplete: true }, usageMetadata: { totalTokenCount: 546 } }))).toEqual([
      { type: 'turnComplete' },
      { type: 'usage', usage: { prompt: {}, response: {}, totalTokens: 546 } },
    ]);
    expect(toSessionEvents(message({ serverContent: { turnComplete: true, turnCompleteReason: 'RESPONSE_REJECTED' } }))).toEqual([{ type: 'turnComplete', detail: 'RESPONSE_REJECTED', rejected: true }]);
    expect(toSessionEvents(message({ serverContent: { turnComplete: true, turnCompleteReason: 'NEED_MORE_INPUT' } }))).toEqual([{ type: 'turnComplete', detail: 'NEED_MORE_INPUT' }]);
    // usage alone (incremental), a bare {}, voiceActivity beside an empty serverContent: nothing else for the call
    expect(toSessionEvents(message({ usageMetadata: { totalTokenCount: 12 } }))).toEqual([{ type: 'usage', usage: { prompt: {}, response: {}, totalTokens: 12 } }]);
    expect(toSessionEvents(message({}))).toEqual([]);
    expect(toSessionEvents(message({ serverContent: {}, voiceActivity: { voiceActivityType: 'ACTIVITY_START', audioOffset: '8.400s' } }))).toEqual([]);
    // outputTranscription and generationComplete in one message, no modelTurn; finished: null
    expect(toSessionEvents(message({ serverContent: { outputTranscription: { text: ' Goodbye!', finished: null }, generationComplete: true } }))).toEqual([
      { type: 'outputTranscript', text: ' Goodbye!' },
      { type: 'generationComplete' },
    ]);
    // interim input transcripts repeat the segment so far: not taken as more speech
    expect(toSessionEvents(message({ serverContent: { interimInputTranscription: { text: 'I would like' } } }))).toEqual([]);
    // several calls in one toolCall, ids of mixed formats, kept verbatim
    expect(toSessionEvents(message({ toolCall: { functionCalls: [{ id: 'function-call-18446744073709551615', name: 'a', args: {} }, { id: '3f9c1a7b', name: 'b' }] } }))).toEqual([
      { type: 'toolCall', calls: [{ id: 'function-call-18446744073709551615', name: 'a', args: {} }, { id: '3f9c1a7b', name: 'b', args: {} }] },
    ]);
    // sessionResumptionUpdate without a handle (while generating)
    expect(toSessionEvents(message({ sessionResumptionUpdate: {} }))).toEqual([{ type: 'resumptionUpdate', handle: undefined, resumable: false }]);
  });

  it('parses protobuf durations', () => {
    expect(parseDurationMs('50s')).toBe(50_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('oops')).toBeUndefined();
  });
});

describe('usage in our terms', () => {
  it('counts tokens by modality, as reported (the recorded shape, and Vertex\'s after the SDK renamed it)', () => {
    const [event] = toSessionEvents(
      message({
        usageMetadata: {
          promptTokenCount: 515,
          responseTokenCount: 31,
          totalTokenCount: 546,
          thoughtsTokenCount: 4,
          toolUsePromptTokenCount: 7,
          cachedContentTokenCount: 100,
          promptTokensDetails: [{ modality: 'TEXT', tokenCount: 415 }, { modality: 'AUDIO', tokenCount: 100 }],
          responseTokensDetails: [{ modality: 'AUDIO', tokenCount: 31 }],
        },
      }),
    );
    expect(event).toEqual({
      type: 'usage',
      usage: {
        prompt: { text: 415, audio: 100, total: 515 },
        response: { audio: 31, total: 31 },
        cachedTokens: 100,
        thinkingTokens: 4,
        toolUsePromptTokens: 7,
        totalTokens: 546,
      },
    });
  });
});

describe('tool answers and declarations as Gemini takes them', () => {
  it('sends output or error under `response`, and the scheduling of a non-blocking result', () => {
    expect(toFunctionResponse({ id: 'function-call-1', name: 'find_booking', response: { output: { found: true } } })).toEqual({
      id: 'function-call-1',
      name: 'find_booking',
      response: { output: { found: true } },
    });
    const error = { status: 'error', retryable: false, message: 'No such booking.', hint: 'Ask for the code.' } as const;
    expect(toFunctionResponse({ id: 'a', name: 'n', response: { error }, scheduling: 'whenIdle' })).toEqual({
      id: 'a',
      name: 'n',
      response: { error },
      scheduling: FunctionResponseScheduling.WHEN_IDLE,
    });
    expect(toFunctionResponse({ id: 'a', name: 'n', response: { output: 1 }, scheduling: 'interrupt' }).scheduling).toBe(FunctionResponseScheduling.INTERRUPT);
    expect(toFunctionResponse({ id: 'a', name: 'n', response: { output: 1 }, scheduling: 'silent' }).scheduling).toBe(FunctionResponseScheduling.SILENT);
  });

  it('state the behavior explicitly and give parameters as a Gemini Schema, without our `sensitive` marks', () => {
    expect(toFunctionDeclaration(lookup)).toEqual({
      name: 'lookup_order',
      description: 'Finds an order.',
      behavior: Behavior.NON_BLOCKING,
      parameters: {
        type: Type.OBJECT,
        properties: {
          order_id: { type: Type.STRING, pattern: '^[0-9]{6}$', description: 'Six digits.' },
          channel: { type: Type.STRING, format: 'enum', enum: ['web', 'phone'] },
          items: { type: Type.ARRAY, items: { type: Type.INTEGER, minimum: 1 }, maxItems: '3' },
          gift: { type: Type.BOOLEAN },
          address: { type: Type.OBJECT, properties: { zip: { type: Type.STRING, minLength: '5', maxLength: '10' } }, required: ['zip'] },
        },
        required: ['order_id'],
      },
    });
  });

  it('leave out parameters for a tool without arguments (Gemini refuses an empty OBJECT)', () => {
    const hangUp = defineTool({ name: 'hang_up', description: 'Hangs up.', behavior: 'BLOCKING', handler: () => undefined });
    expect(toFunctionDeclaration(hangUp)).toEqual({ name: 'hang_up', description: 'Hangs up.', behavior: Behavior.BLOCKING });
  });

  it('are fresh objects for every session, since the SDK rewrites them in place', () => {
    const tools = new ToolRegistry([lookup]).declarations();
    const declarationsOf = (config: LiveConnectConfig) => (config.tools![0] as Tool).functionDeclarations!;
    const first = declarationsOf(buildLiveConnectConfig({ voice: undefined, instructions: '', tools }));
    (first[0]!.parameters!.properties!['order_id'] as { type: string }).type = 'MUTATED';
    const second = declarationsOf(buildLiveConnectConfig({ voice: undefined, instructions: '', tools }));
    expect(second[0]!.parameters!.properties!['order_id']!.type).toBe(Type.STRING);
    expect(lookup.parameters.properties['order_id']!.type).toBe('string');
  });
});

describe('buildLiveConnectConfig', () => {
  it('asks for audio, the voice, transcripts both ways, resumption and compression', () => {
    const config = buildLiveConnectConfig({ voice: 'Puck', instructions: 'Be brief.', tools: [] });
    expect(config).toMatchObject({
      responseModalities: ['AUDIO'],
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
      systemInstruction: 'Be brief.',
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      sessionResumption: {},
      contextWindowCompression: { triggerTokens: '25600', slidingWindow: { targetTokens: '12800' } },
    });
    expect(config.tools).toBeUndefined();
    expect(buildLiveConnectConfig({ voice: 'Puck', instructions: '', tools: [], resumptionHandle: 'h' }).sessionResumption).toEqual({ handle: 'h' });
    // No voice named: Gemini's default, Kore.
    expect(buildLiveConnectConfig({ voice: undefined, instructions: '', tools: [] }).speechConfig).toEqual({ voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } });
  });
});

describe('turn settings as Gemini takes them', () => {
  const setup = (turns?: TurnSettings, inputTranscription?: InputTranscriptionSettings) =>
    buildLiveConnectConfig({ voice: undefined, instructions: '', tools: [], ...(turns === undefined ? {} : { turns }), ...(inputTranscription === undefined ? {} : { inputTranscription }) });

  it('sends no realtimeInputConfig when the agent sets nothing: the model keeps its defaults', () => {
    expect(setup()).not.toHaveProperty('realtimeInputConfig');
    expect(setup({ detection: 'model' })).not.toHaveProperty('realtimeInputConfig');
    expect(setup().inputAudioTranscription).toEqual({});
  });

  it("maps every model setting onto the SDK's RealtimeInputConfig", () => {
    const config = setup({ detection: 'model', startSensitivity: 'low', endSensitivity: 'high', prefixPaddingMs: 20, silenceDurationMs: 800, callerInterrupts: false, turnCoverage: 'allInput' });
    expect(config.realtimeInputConfig).toEqual({
      automaticActivityDetection: { startOfSpeechSensitivity: 'START_SENSITIVITY_LOW', endOfSpeechSensitivity: 'END_SENSITIVITY_HIGH', prefixPaddingMs: 20, silenceDurationMs: 800 },
      activityHandling: 'NO_INTERRUPTION',
      turnCoverage: 'TURN_INCLUDES_ALL_INPUT',
    });
    // Interrupting is the service's default: it is not sent.
    expect(setup({ detection: 'model', callerInterrupts: true, turnCoverage: 'activity' }).realtimeInputConfig).toEqual({ turnCoverage: 'TURN_INCLUDES_ONLY_ACTIVITY' });
  });

  it('local detection disables the model\'s own and sends none of its settings', () => {
    expect(setup({ detection: 'local' }).realtimeInputConfig).toEqual({ automaticActivityDetection: { disabled: true } });
  });

  it('asks input transcription for the languages and words the agent gives', () => {
    expect(setup(undefined, { languages: ['en-US', 'es-US'], vocabulary: ['Blue Door', 'prix fixe'] }).inputAudioTranscription).toEqual({ languageCodes: ['en-US', 'es-US'], customVocabulary: ['Blue Door', 'prix fixe'] });
  });

  it("refuses silenceDurationMs on a model reported to ignore it, naming the report and what to do instead", () => {
    const model = createGeminiModel({ auth: { kind: 'api-key', apiKey: 'unused' }, model: 'gemini-3.8-live', apiVersion: undefined, setupTimeoutMs: 1_000 });
    const problems = (name: string, turns: TurnSettings) => model.settingsProblems({ model: name, voice: undefined, turns, tools: [], features: {} });
    expect(problems('gemini-3.1-flash-live-preview', { detection: 'model', silenceDurationMs: 1_000 })).toEqual([
      expect.stringMatching(/^turnTaking\.silenceDurationMs is ignored by gemini-3\.1-flash-live-preview \(.*js-genai#1467.*\): use turnDetection 'local'/),
    ]);
    expect(problems('models/gemini-3.1-flash-live-preview', { detection: 'model', silenceDurationMs: 1_000 })).toHaveLength(1);
    // Local detection applies the silence itself; other models honour it.
    expect(problems('gemini-3.1-flash-live-preview', { detection: 'local' })).toEqual([]);
    expect(problems('gemini-3.8-live', { detection: 'model', silenceDurationMs: 1_000 })).toEqual([]);
  });
});
