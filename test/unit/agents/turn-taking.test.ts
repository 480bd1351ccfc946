import { describe, expect, it } from 'vitest';
import { defineAgent, type AgentDefinition } from '../../../src/agents/agent.js';
import { AgentDirectory } from '../../../src/agents/agent-directory.js';
import { needsNeuralVad } from '../../../src/agents/turn-taking.js';
import { loadConfig, resolveConfig } from '../../../src/settings/resolve-config.js';
import { callDetails } from '../../../src/domain/call-details.js';
import { createGeminiModel } from '../../../src/model/gemini/gemini-model.js';
import { BASIC_CAPABILITIES, type RealtimeModel } from '../../../src/model/realtime-model.js';
import { DEFAULT_TURN_DETECTION } from '../../../src/turn-detection/caller-turn.js';
import { problemsOf } from '../../support/definition-problems.js';

const gemini = createGeminiModel({ auth: { kind: 'api-key', apiKey: 'unused' }, model: 'gemini-3.8-live', apiVersion: undefined, setupTimeoutMs: 1_000 });
/** A model that only talks and listens: no turn setting at all. */
const basic: Pick<RealtimeModel, 'defaultModel' | 'capabilities' | 'settingsProblems'> = { defaultModel: 'basic-model', capabilities: () => BASIC_CAPABILITIES, settingsProblems: () => [] };
const base = { name: 'dental', instructions: 'You answer calls.' } as const;

function directory(definition: Partial<AgentDefinition>, options: { model?: typeof basic; turnDetection?: 'model' | 'local' } = {}): AgentDirectory {
  return new AgentDirectory([defineAgent({ ...base, ...definition })], { transferNumber: undefined, toolWebhookSecret: undefined, model: options.model ?? gemini, ...(options.turnDetection === undefined ? {} : { turnDetection: options.turnDetection }) });
}

describe('turn taking in an agent definition', () => {
  it('names every bad turn-taking field at once, with what it must be', () => {
    const problems = problemsOf(() =>
      defineAgent({
        ...base,
        turnDetection: 'server' as never,
        turnTaking: { silenceDurationMs: 12.5, prefixPaddingMs: -1, callerInterrupts: 'no' as never, turnCoverage: 'everything' as never, minSpeechLevelDbfs: 3, patience: 2 } as never,
        inputTranscription: { languages: ['english'], vocabulary: [''], dialect: 'x' } as never,
      }),
    );
    expect(problems).toEqual([
      `agent "dental": turnDetection must be 'model' or 'local'`,
      'agent "dental": turnTaking.silenceDurationMs must be a whole number of ms from 20 to 10000',
      'agent "dental": turnTaking.prefixPaddingMs must be a whole number of ms from 0 to 2000',
      'agent "dental": turnTaking.callerInterrupts must be true or false',
      `agent "dental": turnTaking.turnCoverage must be one of 'activity', 'allInput'`,
      'agent "dental": turnTaking.minSpeechLevelDbfs must be a number of dBFS from -90 to 0',
      expect.stringMatching(/^agent "dental": turnTaking\.patience is not a turn-taking setting \(known: silenceDurationMs, /),
      'agent "dental": inputTranscription.languages must be an array of BCP-47 tags such as en-US',
      'agent "dental": inputTranscription.vocabulary must be an array of words or phrases',
      'agent "dental": inputTranscription.dialect is not a transcription field (languages, vocabulary)',
    ]);
  });

  it('reaches the model settings of every call: model detection with its tuning, transcription hints', async () => {
    const agent = directory({
      turnTaking: { silenceDurationMs: 900, prefixPaddingMs: 40, startSensitivity: 'low', endSensitivity: 'high', callerInterrupts: false, turnCoverage: 'activity' },
      inputTranscription: { languages: ['en-GB'], vocabulary: ['Blue Door'] },
    }).byAgentName('dental')!;
    expect(agent.turnTaking.local).toBeUndefined();
    const settings = await agent.conversationSettings(callDetails({ callSid: `CA${'0'.repeat(32)}`, from: undefined, to: undefined, direction: 'inbound' }, 'dental'));
    expect(settings.turns).toEqual({ detection: 'model', silenceDurationMs: 900, prefixPaddingMs: 40, startSensitivity: 'low', endSensitivity: 'high', callerInterrupts: false, turnCoverage: 'activity' });
    expect(settings.inputTranscription).toEqual({ languages: ['en-GB'], vocabulary: ['Blue Door'] });
  });

  it("local detection: the model's detection off, the shared settings drive the local detector, the rest is its defaults", () => {
    const agent = directory({ turnDetection: 'local', turnTaking: { silenceDurationMs: 900, prefixPaddingMs: 96, minBargeInSpeechMs: 300, echoMarginDb: 15, turnCoverage: 'allInput' } }).byAgentName('dental')!;
    expect(agent.turnTaking.turns).toEqual({ detection: 'local', turnCoverage: 'allInput' });
    expect(agent.turnTaking.local).toEqual({
      detector: 'neural',
      settings: { ...DEFAULT_TURN_DETECTION, endSilenceMs: 900, startSpeechMs: 96, minBargeInSpeechMs: 300, echoMarginDb: 15 },
      callerInterrupts: true,
      preRoll: false, // all input reaches the turn anyway
    });
    expect(directory({ turnDetection: 'local' }).byAgentName('dental')!.turnTaking.local).toMatchObject({ preRoll: true, settings: DEFAULT_TURN_DETECTION });
  });

  it('TURN_DETECTION is the default for agents that do not say; an agent can still ask for the model', () => {
    expect(directory({}, { turnDetection: 'local' }).byAgentName('dental')!.turnTaking.turns.detection).toBe('local');
    expect(directory({ turnDetection: 'model' }, { turnDetection: 'local' }).byAgentName('dental')!.turnTaking.turns.detection).toBe('model');
    expect(loadConfig({ BROWSER_PHONE: '1' }).turnDetection).toBe('model');
    expect(loadConfig({ BROWSER_PHONE: '1', TURN_DETECTION: 'local' }).turnDetection).toBe('local');
    expect(() => loadConfig({ BROWSER_PHONE: '1', TURN_DETECTION: 'vad' })).toThrow('TURN_DETECTION (turnDetection) must be one of model, local (got "vad")');
    expect(resolveConfig({ settings: { turnDetection: 'local' }, env: { BROWSER_PHONE: '1' } }).turnDetection).toBe('local');
  });

  it('refuses at start-up what the mode or the model cannot do, each naming the setting and what to do instead', () => {
    expect(problemsOf(() => directory({ turnTaking: { minBargeInSpeechMs: 300, localDetector: 'energy' } }))).toEqual([
      `agent "dental": turnTaking.localDetector applies to turnDetection 'local' only, and this agent's turns are detected by the model: remove it or set turnDetection: 'local'`,
      `agent "dental": turnTaking.minBargeInSpeechMs applies to turnDetection 'local' only, and this agent's turns are detected by the model: remove it or set turnDetection: 'local'`,
    ]);
    expect(problemsOf(() => directory({ turnDetection: 'local', turnTaking: { endSensitivity: 'low' } }))).toEqual([
      `agent "dental": turnTaking.endSensitivity tunes the model's own voice detection, which is off with turnDetection 'local': remove it (minSpeechLevelDbfs sets how loud the caller must be)`,
    ]);
    const onBasic = problemsOf(() =>
      directory({ turnDetection: 'local', turnTaking: { callerInterrupts: false, turnCoverage: 'activity' }, inputTranscription: { languages: ['en-US'], vocabulary: ['Acme'] } }, { model: basic }),
    );
    expect(onBasic).toEqual([
      `agent "dental": turnDetection 'local' needs a model that takes turns from the service (activity signals), and basic-model does not: use turnDetection 'model'`,
      'agent "dental": turnTaking.callerInterrupts cannot be false: basic-model always stops when the caller speaks',
      'agent "dental": turnTaking.turnCoverage cannot be set on basic-model',
      'agent "dental": inputTranscription.languages cannot be set: basic-model takes no transcription languages',
      'agent "dental": inputTranscription.vocabulary cannot be set: basic-model takes no custom vocabulary',
    ]);
    expect(problemsOf(() => directory({ turnTaking: { silenceDurationMs: 800 } }, { model: basic }))).toEqual([
      "agent \"dental\": turnTaking.silenceDurationMs cannot be set: basic-model's voice detection takes no settings",
    ]);
    // What only the model knows comes from it: a Gemini model reported to ignore the silence setting.
    expect(problemsOf(() => directory({ model: 'gemini-3.1-flash-live-preview', turnTaking: { silenceDurationMs: 800 } }))).toEqual([
      expect.stringMatching(/^agent "dental": turnTaking\.silenceDurationMs is ignored by gemini-3\.1-flash-live-preview/),
    ]);
  });

  it('the neural VAD is needed only by agents detecting turns locally with it', () => {
    const agent = (definition: Partial<AgentDefinition>) => defineAgent({ ...base, ...definition });
    expect(needsNeuralVad(agent({}), 'model')).toBe(false);
    expect(needsNeuralVad(agent({}), 'local')).toBe(true);
    expect(needsNeuralVad(agent({ turnTaking: { localDetector: 'energy' } }), 'local')).toBe(false);
    expect(needsNeuralVad(agent({ turnDetection: 'local' }), 'model')).toBe(true);
  });
});
