import { LANGUAGE_TAG_PATTERN } from '../domain/identifiers.js';
import type { InputTranscriptionSettings, ModelCapabilities, TurnDetection, TurnSettings } from '../model/realtime-model.js';
import { DEFAULT_TURN_DETECTION, type TurnDetectionSettings } from '../turn-detection/caller-turn.js';

/**
 * An agent's turn taking (docs/turn-taking.md): who detects the caller's turns, the settings an agent may give
 * for either way, and what a model must offer for each, checked when the service starts.
 */

/** The turn-taking settings an agent may give; absent ones keep the defaults (the model's, or the local detector's). */
export interface TurnTakingSettings {
  /** Silence that ends the caller's turn, ms: the model's `silenceDurationMs`, or the local detector's end silence. */
  silenceDurationMs?: number;
  /** Speech needed before a turn starts, ms: the model's `prefixPaddingMs`, or the local detector's onset. */
  prefixPaddingMs?: number;
  /** false: the caller cannot interrupt the agent, who always finishes what it says. Default true. */
  callerInterrupts?: boolean;
  /** What a caller turn holds: the speech only (`activity`), or all audio since the last turn (`allInput`). */
  turnCoverage?: 'activity' | 'allInput';
  /** Model detection only: how readily the model hears speech begin (`high`: more often) and end (`high`: sooner). */
  startSensitivity?: 'high' | 'low';
  endSensitivity?: 'high' | 'low';
  /** Local detection only: Silero VAD (`neural`, the default) or the energy detector (no extra packages). */
  localDetector?: LocalDetector;
  /** Local detection only: how long the caller must talk over the agent to cut it; shorter is a backchannel. */
  minBargeInSpeechMs?: number;
  /** Local detection only: quieter audio is never the caller (a distant voice, a television), dBFS. */
  minSpeechLevelDbfs?: number;
  /** Local detection only: how far under the agent's own recent audio the caller may be and still count, dB. */
  echoMarginDb?: number;
}

export type LocalDetector = 'neural' | 'energy';

/** Local turn detection for one agent's calls. */
export interface LocalTurnSettings {
  readonly detector: LocalDetector;
  readonly settings: TurnDetectionSettings;
  /** The caller may pause and cut the agent. */
  readonly callerInterrupts: boolean;
  /**
   * After `activityStart`, replay the caller's audio from the onset: the model's turn holds only what follows the
   * signal. Not with `allInput` coverage, whose turn already holds it.
   */
  readonly preRoll: boolean;
}

/** An agent's turn taking, resolved against the service default and checked against its model. */
export interface AgentTurnTaking {
  /** What the model is set up with. */
  readonly turns: TurnSettings;
  /** Set when this service detects the turns. */
  readonly local: LocalTurnSettings | undefined;
}

type Rule = { kind: 'integer' | 'number'; min: number; max: number; unit: string } | { kind: 'boolean' } | { kind: 'oneOf'; values: readonly string[] };

const SETTING_RULES: Readonly<Record<keyof TurnTakingSettings, Rule>> = {
  silenceDurationMs: { kind: 'integer', min: 20, max: 10_000, unit: 'ms' },
  prefixPaddingMs: { kind: 'integer', min: 0, max: 2_000, unit: 'ms' },
  callerInterrupts: { kind: 'boolean' },
  turnCoverage: { kind: 'oneOf', values: ['activity', 'allInput'] },
  startSensitivity: { kind: 'oneOf', values: ['high', 'low'] },
  endSensitivity: { kind: 'oneOf', values: ['high', 'low'] },
  localDetector: { kind: 'oneOf', values: ['neural', 'energy'] },
  minBargeInSpeechMs: { kind: 'integer', min: 0, max: 5_000, unit: 'ms' },
  minSpeechLevelDbfs: { kind: 'number', min: -90, max: 0, unit: 'dBFS' },
  echoMarginDb: { kind: 'number', min: 0, max: 60, unit: 'dB' },
};

/** The model's own voice detection: off when the service detects turns. */
const MODEL_DETECTION_ONLY = ['startSensitivity', 'endSensitivity'] as const;
const LOCAL_DETECTION_ONLY = ['localDetector', 'minBargeInSpeechMs', 'minSpeechLevelDbfs', 'echoMarginDb'] as const;
/** Settings of the model's voice detection (`voiceDetectionSettings`) when the model detects turns. */
const VOICE_DETECTION = ['startSensitivity', 'endSensitivity', 'prefixPaddingMs', 'silenceDurationMs'] as const;

type Add = (field: string, problem: string) => void;

/** The types and ranges of `turnDetection`, `turnTaking` and `inputTranscription` in an agent definition. */
export function turnTakingDefinitionProblems(raw: Record<string, unknown>, add: Add): void {
  if (raw.turnDetection !== undefined && raw.turnDetection !== 'model' && raw.turnDetection !== 'local') add('turnDetection', "must be 'model' or 'local'");
  const settings = raw.turnTaking;
  if (settings !== undefined) {
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) add('turnTaking', 'must be an object');
    else for (const [key, value] of Object.entries(settings)) settingProblem(key, value, add);
  }
  const transcription = raw.inputTranscription;
  if (transcription === undefined) return;
  if (typeof transcription !== 'object' || transcription === null || Array.isArray(transcription)) return add('inputTranscription', 'must be { languages?, vocabulary? }');
  for (const [key, value] of Object.entries(transcription)) {
    if (key === 'languages') {
      if (!isStringList(value, (tag) => LANGUAGE_TAG_PATTERN.test(tag))) add('inputTranscription.languages', 'must be an array of BCP-47 tags such as en-US');
    } else if (key === 'vocabulary') {
      if (!isStringList(value, (word) => word.trim() !== '')) add('inputTranscription.vocabulary', 'must be an array of words or phrases');
    } else add(`inputTranscription.${key}`, 'is not a transcription field (languages, vocabulary)');
  }
}

function settingProblem(key: string, value: unknown, add: Add): void {
  const field = `turnTaking.${key}`;
  const rule = (SETTING_RULES as Record<string, Rule | undefined>)[key];
  if (rule === undefined) return add(field, `is not a turn-taking setting (known: ${Object.keys(SETTING_RULES).join(', ')})`);
  if (value === undefined) return;
  switch (rule.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') add(field, 'must be true or false');
      return;
    case 'oneOf':
      if (typeof value !== 'string' || !rule.values.includes(value)) add(field, `must be one of ${rule.values.map((v) => `'${v}'`).join(', ')}`);
      return;
    default: {
      const whole = rule.kind === 'integer';
      if (typeof value !== 'number' || !Number.isFinite(value) || (whole && !Number.isInteger(value)) || value < rule.min || value > rule.max) {
        add(field, `must be ${whole ? 'a whole number' : 'a number'} of ${rule.unit} from ${rule.min} to ${rule.max}`);
      }
    }
  }
}

function isStringList(value: unknown, valid: (item: string) => boolean): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && valid(item));
}

/** What an agent asked for, as `defineAgent` keeps it. */
export interface TurnTakingRequest {
  readonly turnDetection: TurnDetection | undefined;
  readonly turnTaking: Readonly<TurnTakingSettings>;
  readonly inputTranscription: Readonly<InputTranscriptionSettings>;
}

/**
 * The agent's turn taking with the service's default detection filled in, and every setting its model cannot
 * honour (one sentence each, naming the setting and what to do instead). `model` names the model in them.
 */
export function resolveTurnTaking(
  request: TurnTakingRequest,
  defaultDetection: TurnDetection,
  model: { name: string; capabilities: ModelCapabilities },
): { turnTaking: AgentTurnTaking; problems: string[] } {
  const detection = request.turnDetection ?? defaultDetection;
  const settings = request.turnTaking;
  const problems: string[] = [];
  const can = model.capabilities;
  const set = (key: keyof TurnTakingSettings): boolean => settings[key] !== undefined;
  const refuse = (key: string, why: string): void => void problems.push(`turnTaking.${key} ${why}`);

  if (detection === 'local') {
    if (!can.activitySignals) problems.push(`turnDetection 'local' needs a model that takes turns from the service (activity signals), and ${model.name} does not: use turnDetection 'model'`);
    for (const key of MODEL_DETECTION_ONLY.filter(set)) refuse(key, "tunes the model's own voice detection, which is off with turnDetection 'local': remove it (minSpeechLevelDbfs sets how loud the caller must be)");
  } else {
    for (const key of LOCAL_DETECTION_ONLY.filter(set)) refuse(key, `applies to turnDetection 'local' only, and this agent's turns are detected by the model: remove it or set turnDetection: 'local'`);
    if (!can.voiceDetectionSettings) for (const key of VOICE_DETECTION.filter(set)) refuse(key, `cannot be set: ${model.name}'s voice detection takes no settings`);
  }
  if (settings.callerInterrupts === false && !can.interruptionControl) refuse('callerInterrupts', `cannot be false: ${model.name} always stops when the caller speaks`);
  if (set('turnCoverage') && !can.turnCoverage) refuse('turnCoverage', `cannot be set on ${model.name}`);
  if (request.inputTranscription.languages !== undefined && !can.transcriptionLanguages) problems.push(`inputTranscription.languages cannot be set: ${model.name} takes no transcription languages`);
  if (request.inputTranscription.vocabulary !== undefined && !can.transcriptionVocabulary) problems.push(`inputTranscription.vocabulary cannot be set: ${model.name} takes no custom vocabulary`);

  const shared = {
    ...(settings.callerInterrupts === undefined ? {} : { callerInterrupts: settings.callerInterrupts }),
    ...(settings.turnCoverage === undefined ? {} : { turnCoverage: settings.turnCoverage }),
  };
  if (detection === 'model') {
    const voice = Object.fromEntries(VOICE_DETECTION.filter(set).map((key) => [key, settings[key]]));
    return { turnTaking: { turns: { detection, ...voice, ...shared }, local: undefined }, problems };
  }
  const local: LocalTurnSettings = {
    detector: settings.localDetector ?? 'neural',
    settings: localDetectorSettings(settings),
    callerInterrupts: settings.callerInterrupts ?? true,
    preRoll: settings.turnCoverage !== 'allInput',
  };
  return { turnTaking: { turns: { detection, ...shared }, local }, problems };
}

/** The local detector's settings: its defaults (measured, docs/turn-taking.md), with the agent's own. */
export function localDetectorSettings(settings: Readonly<TurnTakingSettings>): TurnDetectionSettings {
  return {
    ...DEFAULT_TURN_DETECTION,
    ...(settings.prefixPaddingMs === undefined ? {} : { startSpeechMs: settings.prefixPaddingMs }),
    ...(settings.silenceDurationMs === undefined ? {} : { endSilenceMs: settings.silenceDurationMs }),
    ...(settings.minBargeInSpeechMs === undefined ? {} : { minBargeInSpeechMs: settings.minBargeInSpeechMs }),
    ...(settings.minSpeechLevelDbfs === undefined ? {} : { minSpeechLevelDbfs: settings.minSpeechLevelDbfs }),
    ...(settings.echoMarginDb === undefined ? {} : { echoMarginDb: settings.echoMarginDb }),
  };
}

/** Whether an agent's calls need the neural VAD: the service loads it once, at start, if any agent does. */
export function needsNeuralVad(request: Pick<TurnTakingRequest, 'turnDetection' | 'turnTaking'>, defaultDetection: TurnDetection): boolean {
  return (request.turnDetection ?? defaultDetection) === 'local' && (request.turnTaking.localDetector ?? 'neural') === 'neural';
}
