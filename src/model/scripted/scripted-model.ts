import { BASIC_CAPABILITIES, type ConversationHooks, type ConversationSettings, type RealtimeConversation, type RealtimeModel } from '../realtime-model.js';
import { SCRIPTED_INPUT_RATE_HZ } from './caller-turns.js';
import type { ConversationJournal, ScriptFactory } from './script.js';
import { DEFAULT_TIMING, ScriptedConversation, type ScriptedTiming } from './scripted-conversation.js';
import { VOICE_SAMPLE_RATE_HZ } from './synthetic-voice.js';

export interface ScriptedModelOptions {
  /** For logs: who this model is (e.g. `local`, `replay`). */
  provider: string;
  /** Each conversation's script, made from its settings. */
  script: ScriptFactory;
  /** What it refuses in an agent's settings (e.g. the voices of the model it stands in for). */
  settingsProblems?: RealtimeModel['settingsProblems'];
  timing?: Partial<ScriptedTiming>;
  /** Journals of ended conversations kept (default all): a long-running service keeps a few. */
  keepEndedJournals?: number;
}

/** A realtime model whose conversations follow a script; `journals` say what each heard and did, oldest first. */
export interface ScriptedModel extends RealtimeModel {
  readonly journals: readonly ConversationJournal[];
}

const SCRIPTED_CAPABILITIES = Object.freeze({ ...BASIC_CAPABILITIES, activitySignals: true, interruptionControl: true });

/**
 * A model implementing the contract with no provider behind it: the keyless local model and the replay's model
 * script run on it. It listens as Gemini does (16 kHz PCM16) and speaks as Gemini does (24 kHz PCM16), so calls
 * through it take the same audio path.
 */
export function createScriptedModel(options: ScriptedModelOptions): ScriptedModel {
  const timing: ScriptedTiming = { ...DEFAULT_TIMING, ...options.timing };
  const journals: ConversationJournal[] = [];
  const forgetEnded = (): void => {
    const keep = options.keepEndedJournals ?? Number.POSITIVE_INFINITY;
    let ended = journals.filter((journal) => journal.closed).length;
    for (let i = 0; i < journals.length && ended > keep; ) {
      if (journals[i]!.closed) {
        journals.splice(i, 1);
        ended--;
      } else i++;
    }
  };
  return {
    provider: options.provider,
    defaultModel: options.provider,
    journals,
    audio: { input: { encoding: 'pcm16le', sampleRateHz: SCRIPTED_INPUT_RATE_HZ }, output: { encoding: 'pcm16le', sampleRateHz: VOICE_SAMPLE_RATE_HZ } },
    // It takes turns from the call as a Live model does, and can let the caller's speech not interrupt it.
    capabilities: () => SCRIPTED_CAPABILITIES,
    settingsProblems: options.settingsProblems ?? (() => []),
    conversation(settings: () => Promise<ConversationSettings>, hooks: ConversationHooks): RealtimeConversation {
      forgetEnded();
      const journal: ConversationJournal = { agentName: undefined, callerTurns: [], replies: [], toolCalls: [], toolAnswers: [], interruptions: 0, closed: false };
      journals.push(journal);
      return new ScriptedConversation(settings, hooks, options.script, timing, journal);
    },
  };
}
