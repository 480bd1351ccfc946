import { ActivityHandling, EndSensitivity, StartSensitivity, TurnCoverage, type AudioTranscriptionConfig, type RealtimeInputConfig } from '@google/genai';
import type { AgentModelSettings, InputTranscriptionSettings, TurnSettings } from '../realtime-model.js';

/**
 * Turn settings as Gemini Live takes them: `realtimeInputConfig` and `inputAudioTranscription` of the setup (field
 * names from @google/genai's `RealtimeInputConfig`, `AutomaticActivityDetection` and `AudioTranscriptionConfig`),
 * and what a model is known to ignore.
 */

const START_SENSITIVITY = { high: StartSensitivity.START_SENSITIVITY_HIGH, low: StartSensitivity.START_SENSITIVITY_LOW } as const;
const END_SENSITIVITY = { high: EndSensitivity.END_SENSITIVITY_HIGH, low: EndSensitivity.END_SENSITIVITY_LOW } as const;
const TURN_COVERAGE = { activity: TurnCoverage.TURN_INCLUDES_ONLY_ACTIVITY, allInput: TurnCoverage.TURN_INCLUDES_ALL_INPUT } as const;

/**
 * `realtimeInputConfig` for the agent's turn settings; undefined when it sets nothing (the model's defaults). With
 * local detection the model's own is disabled: the call sends `activityStart`/`activityEnd`
 * (https://ai.google.dev/gemini-api/docs/live-guide, on voice activity detection).
 */
export function realtimeInputConfig(turns: TurnSettings): RealtimeInputConfig | undefined {
  const detection =
    turns.detection === 'local'
      ? { disabled: true }
      : {
          ...(turns.startSensitivity === undefined ? {} : { startOfSpeechSensitivity: START_SENSITIVITY[turns.startSensitivity] }),
          ...(turns.endSensitivity === undefined ? {} : { endOfSpeechSensitivity: END_SENSITIVITY[turns.endSensitivity] }),
          ...(turns.prefixPaddingMs === undefined ? {} : { prefixPaddingMs: turns.prefixPaddingMs }),
          ...(turns.silenceDurationMs === undefined ? {} : { silenceDurationMs: turns.silenceDurationMs }),
        };
  const config: RealtimeInputConfig = {
    ...(Object.keys(detection).length === 0 ? {} : { automaticActivityDetection: detection }),
    // START_OF_ACTIVITY_INTERRUPTS is the service's default: sent only to say otherwise.
    ...(turns.callerInterrupts === false ? { activityHandling: ActivityHandling.NO_INTERRUPTION } : {}),
    ...(turns.turnCoverage === undefined ? {} : { turnCoverage: TURN_COVERAGE[turns.turnCoverage] }),
  };
  return Object.keys(config).length === 0 ? undefined : config;
}

/** Input transcription, with the languages to expect and the words to listen for when the agent gives them. */
export function inputAudioTranscription(hints: InputTranscriptionSettings | undefined): AudioTranscriptionConfig {
  return {
    ...(hints?.languages === undefined ? {} : { languageCodes: [...hints.languages] }),
    ...(hints?.vocabulary === undefined ? {} : { customVocabulary: [...hints.vocabulary] }),
  };
}

/**
 * Models reported to accept `silenceDurationMs` and not honour it: an agent relying on it would cut callers off at
 * their first pause, so the service refuses it at start-up.
 */
const IGNORES_SILENCE_DURATION: ReadonlyArray<{ model: RegExp; report: string }> = [
  {
    model: /^(models\/)?gemini-3\.1-flash-live/,
    report: 'a 5 s setting split a 2 s pause (googleapis/js-genai#1467, googleapis/python-genai#2580)',
  },
];

/** Turn settings this model would ignore, one sentence each. */
export function turnSettingsProblems({ model, turns }: Pick<AgentModelSettings, 'model' | 'turns'>): string[] {
  if (turns?.detection !== 'model' || turns.silenceDurationMs === undefined) return [];
  const ignored = IGNORES_SILENCE_DURATION.find((entry) => entry.model.test(model));
  if (ignored === undefined) return [];
  return [
    `turnTaking.silenceDurationMs is ignored by ${model} (${ignored.report}): use turnDetection 'local', which applies it in this service, or another model`,
  ];
}
