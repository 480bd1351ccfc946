import { ThinkingLevel as GeminiThinkingLevel, type LiveConnectConfig } from '@google/genai';
import { BASIC_CAPABILITIES, type AgentModelSettings, type ModelCapabilities, type ModelFeatures, type ThinkingLevel, type ThinkingSetting } from '../realtime-model.js';
import type { ToolDeclaration } from '../../domain/tool-declaration.js';
import {
  BACKEND_NAMES,
  FEATURE_WORDS,
  LIVE_FEATURES,
  LIVE_MODEL_KEYS,
  liveModelKey,
  modelId,
  namedModels,
  type Fact,
  type GeminiBackend,
  type LiveModelKey,
  type Offer,
  type ThinkingControl,
} from './live-models.js';

/**
 * An agent's model features against the capability table (live-models.ts): what the service refuses at start-up,
 * which API version a session needs, the capability flags a call reads, and the setup fields each feature becomes.
 */

/**
 * What this adapter lets a call use on every Live model: resumption (handover, failover) and usage per response.
 * Turn taking as the Live API documents it for its models (https://ai.google.dev/gemini-api/docs/live-guide, voice
 * activity detection; `RealtimeInputConfig` in the SDK's types): activity signals with automatic detection disabled,
 * voice detection settings, activity handling and turn coverage; a model reported to ignore one of them is refused at
 * start-up (turn-settings.ts). Transcription languages and custom vocabulary are fields of the SDK's
 * `AudioTranscriptionConfig` it sends on both backends (since @google/genai 2.13 and 2.14; before, it refused
 * `languageCodes` on the Gemini API); no model page says a Live model refuses them.
 */
const ADAPTER_CAPABILITIES: ModelCapabilities = Object.freeze({
  ...BASIC_CAPABILITIES,
  activitySignals: true,
  voiceDetectionSettings: true,
  interruptionControl: true,
  turnCoverage: true,
  sessionResumption: true,
  transcriptionLanguages: true,
  transcriptionVocabulary: true,
  usageReporting: 'perResponse',
});

/**
 * A model the table does not name: tools both ways and results scheduled, as Google documents for Live models in
 * general ("all function calls are non-blocking by default", Google Cloud's "Asynchronous function calling with
 * Gemini Live API"); the features set per model stay off.
 */
const UNNAMED_MODEL_CAPABILITIES: ModelCapabilities = Object.freeze({ ...ADAPTER_CAPABILITIES, nonBlockingTools: true, toolResultScheduling: true });

export function liveCapabilities(model: string, backend: GeminiBackend): ModelCapabilities {
  const key = liveModelKey(model, backend);
  if (key === undefined) return UNNAMED_MODEL_CAPABILITIES;
  const thinking = LIVE_FEATURES.thinking[key].value.kind;
  return Object.freeze({
    ...ADAPTER_CAPABILITIES,
    affectiveDialog: LIVE_FEATURES.affectiveDialog[key].value !== 'no',
    proactiveAudio: LIVE_FEATURES.proactiveAudio[key].value !== 'no',
    thinking,
    blockingTools: LIVE_FEATURES.blockingTools[key].value,
    nonBlockingTools: LIVE_FEATURES.nonBlockingTools[key].value,
    toolResultScheduling: LIVE_FEATURES.resultScheduling[key].value,
  });
}

interface CheckContext {
  key: LiveModelKey;
  /** `model gemini-3.8-live (Gemini API)`. */
  label: string;
  features: ModelFeatures;
  tools: readonly ToolDeclaration[];
}

type FeatureCheck = (context: CheckContext) => Array<string | undefined>;

/** One check per feature of the table; each problem names the model, the feature and what to do instead. */
const CHECKS: readonly FeatureCheck[] = [
  (c) => [offerProblem(c, 'affectiveDialog', c.features.affectiveDialog)],
  (c) => [offerProblem(c, 'proactiveAudio', c.features.proactiveAudio)],
  (c) => [thinkingProblem(c)],
  (c) => [c.features.temperature !== undefined && !LIVE_FEATURES.temperature[c.key].value ? `${c.label} takes no temperature: remove temperature` : undefined],
  (c) => c.tools.map((tool) => (tool.behavior === 'BLOCKING' && !LIVE_FEATURES.blockingTools[c.key].value ? `${c.label} runs tools only asynchronously: declare tool "${tool.name}" with behavior NON_BLOCKING` : undefined)),
  (c) => c.tools.map((tool) => (tool.behavior === 'NON_BLOCKING' && !LIVE_FEATURES.nonBlockingTools[c.key].value ? `${c.label} runs tools synchronously only: declare tool "${tool.name}" with behavior BLOCKING` : undefined)),
  (c) =>
    c.tools.map((tool) =>
      tool.scheduling !== undefined && !LIVE_FEATURES.resultScheduling[c.key].value ? `${c.label} does not schedule tool results: remove scheduling from tool "${tool.name}"` : undefined,
    ),
];

/**
 * Everything the model would refuse of an agent's features and tools, and any clash with GEMINI_API_VERSION, one
 * sentence each. `configuredApiVersion`: GEMINI_API_VERSION (undefined: the service picks per agent).
 */
export function liveFeatureProblems(settings: AgentModelSettings, backend: GeminiBackend, configuredApiVersion: string | undefined): string[] {
  const label = `model ${modelId(settings.model)} (${BACKEND_NAMES[backend]})`;
  const key = liveModelKey(settings.model, backend);
  if (key === undefined) return unnamedModelProblems(label, settings.features, backend);
  const context: CheckContext = { key, label, features: settings.features, tools: settings.tools };
  const problems = CHECKS.flatMap((check) => check(context)).filter((problem): problem is string => problem !== undefined);
  const needed = neededApiVersion(key, settings.features);
  if (needed !== undefined && configuredApiVersion !== undefined && configuredApiVersion !== needed.version) {
    problems.push(`${label} offers ${needed.feature} on API version ${needed.version} only, but GEMINI_API_VERSION is ${configuredApiVersion}: unset GEMINI_API_VERSION (the service then picks ${needed.version} for this agent) or set it to ${needed.version}`);
  }
  return problems;
}

/**
 * The API version a session of this agent opens with: GEMINI_API_VERSION when set (its clashes are refused at
 * start-up), else the one a feature needs, else the SDK's default (undefined).
 */
export function liveApiVersion(model: string, backend: GeminiBackend, features: ModelFeatures, configured: string | undefined): string | undefined {
  if (configured !== undefined) return configured;
  const key = liveModelKey(model, backend);
  return key === undefined ? undefined : neededApiVersion(key, features)?.version;
}

/**
 * The setup fields the agent's features become. A feature the model always has is not sent (asking for it is a
 * no-op; turning it off is refused at start-up), and neither is one left off.
 */
export function liveFeatureConfig(model: string, backend: GeminiBackend, features: ModelFeatures): Pick<LiveConnectConfig, 'enableAffectiveDialog' | 'proactivity' | 'thinkingConfig' | 'temperature'> {
  const key = liveModelKey(model, backend);
  const sent = (name: 'affectiveDialog' | 'proactiveAudio'): boolean => features[name] === true && (key === undefined || LIVE_FEATURES[name][key].value === 'optional');
  return {
    ...(sent('affectiveDialog') ? { enableAffectiveDialog: true } : {}),
    ...(sent('proactiveAudio') ? { proactivity: { proactiveAudio: true } } : {}),
    ...(features.thinking === undefined ? {} : { thinkingConfig: thinkingConfig(features.thinking) }),
    ...(features.temperature === undefined ? {} : { temperature: features.temperature }),
  };
}

const THINKING_LEVELS: Record<ThinkingLevel, GeminiThinkingLevel> = {
  minimal: GeminiThinkingLevel.MINIMAL,
  low: GeminiThinkingLevel.LOW,
  medium: GeminiThinkingLevel.MEDIUM,
  high: GeminiThinkingLevel.HIGH,
};

function thinkingConfig(thinking: ThinkingSetting): NonNullable<LiveConnectConfig['thinkingConfig']> {
  return 'level' in thinking ? { thinkingLevel: THINKING_LEVELS[thinking.level] } : { thinkingBudget: thinking.budget };
}

function offerProblem(c: CheckContext, feature: 'affectiveDialog' | 'proactiveAudio', wanted: boolean | undefined): string | undefined {
  if (wanted === undefined) return undefined;
  const offer: Offer = LIVE_FEATURES[feature][c.key].value;
  const words = FEATURE_WORDS[feature];
  if (offer === 'no' && wanted) return `${c.label} does not offer ${words}: remove ${feature}${alternatives(c.key, feature)}`;
  if (offer === 'always' && !wanted) return `${c.label} always uses ${words} and refuses to turn it off: remove ${feature}: false`;
  return undefined;
}

function thinkingProblem(c: CheckContext): string | undefined {
  const wanted = c.features.thinking;
  if (wanted === undefined) return undefined;
  const control = LIVE_FEATURES.thinking[c.key].value;
  if (control.kind === 'none') return `${c.label} takes no thinking setting: remove thinking${alternatives(c.key, 'thinking')}`;
  if (control.kind === 'budget' && 'level' in wanted) return `${c.label} sets thinking by a token budget, not a level: use thinking: { budget: <tokens> } (0 turns thinking off)`;
  if (control.kind === 'level' && 'budget' in wanted) return `${c.label} sets thinking by a level, not a budget: use thinking: { level: '${control.levels[0]}' } (one of ${control.levels.join(', ')})`;
  if (control.kind === 'level' && 'level' in wanted && !control.levels.includes(wanted.level)) return `${c.label} takes thinking levels ${control.levels.join(', ')}: "${wanted.level}" is not one`;
  return undefined;
}

/** The version a feature the agent turned on needs (only the table's `optional` features are sent). */
function neededApiVersion(key: LiveModelKey, features: ModelFeatures): { feature: string; version: string } | undefined {
  for (const feature of ['affectiveDialog', 'proactiveAudio'] as const) {
    const row: Fact<Offer> = LIVE_FEATURES[feature][key];
    if (features[feature] === true && row.value === 'optional' && row.apiVersion !== undefined) return { feature: FEATURE_WORDS[feature], version: row.apiVersion };
  }
  return undefined;
}

/** ", or use a model that offers it (…)": the models of the same backend whose row offers the feature. */
function alternatives(key: LiveModelKey, feature: 'affectiveDialog' | 'proactiveAudio' | 'thinking'): string {
  const backend = key.slice(0, key.indexOf('/'));
  const offering = LIVE_MODEL_KEYS.filter((other) => other.startsWith(`${backend}/`) && offers(LIVE_FEATURES[feature][other].value)).map((other) => other.slice(backend.length + 1));
  return offering.length === 0 ? '' : `, or use a model that offers it (${offering.join(', ')}; docs/models.md)`;
}

function offers(value: Offer | ThinkingControl): boolean {
  return typeof value === 'string' ? value !== 'no' : value.kind !== 'none';
}

/** A model the table does not name: the features set per model cannot be checked, so they are refused. */
function unnamedModelProblems(label: string, features: ModelFeatures, backend: GeminiBackend): string[] {
  const unchecked = (['affectiveDialog', 'proactiveAudio', 'thinking'] as const).filter((feature) => features[feature] !== undefined);
  return unchecked.map(
    (feature) => `${label} is not in the capability table (docs/models.md), so whether it offers ${FEATURE_WORDS[feature]} cannot be checked: remove ${feature}, or use one of ${namedModels(backend).join(', ')}`,
  );
}
