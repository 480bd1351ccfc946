/**
 * How the real service answers a setup's model features, for the models the project names (docs/models.md). Each
 * rule cites where the behaviour is documented or reported; a model without rules accepts every field. Refusals
 * close the socket as the service does for a bad setup: 1007 (INVALID_ARGUMENT), with the proto-JSON parser's words
 * for a field the API version does not have (`Unknown name "proactivity" at 'setup'`, googleapis/js-genai#696).
 */
import type { LiveClientSetup } from '@google/genai';
import { invalidArgument, isRecord, type CloseSpec } from './protocol.js';

interface RuleContext {
  /** The model id (`gemini-3.8-live`), whatever prefix the setup gave it. */
  id: string;
  vertex: boolean;
  /** `v1`, `v1beta`, `v1alpha` (Gemini API) or `v1`, `v1beta1` (Vertex AI). */
  apiVersion: string | undefined;
  generation: Record<string, unknown>;
  setup: LiveClientSetup;
}

type Rule = (context: RuleContext) => CloseSpec | undefined;

const unknownField = (name: string, at: string): CloseSpec =>
  invalidArgument(`Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`);

const has = (record: Record<string, unknown> | undefined, key: string): boolean => record !== undefined && record[key] !== undefined && record[key] !== null;
const proactivity = (setup: LiveClientSetup): Record<string, unknown> | undefined => (isRecord(setup.proactivity) ? setup.proactivity : undefined);
const thinking = (c: RuleContext): Record<string, unknown> | undefined => (isRecord(c.generation['thinkingConfig']) ? c.generation['thinkingConfig'] : undefined);
const isGemini38 = (c: RuleContext) => c.id === 'gemini-3.8-live' || c.id === 'gemini-3.8-live-extended-thinking';

const RULES: readonly Rule[] = [
  // gemini-3.8-live: "Affective dialog has been removed from the API" (https://ai.google.dev/gemini-api/docs/models/gemini-3.8-live).
  (c) => (!c.vertex && isGemini38(c) && has(c.generation, 'enableAffectiveDialog') ? unknownField('enableAffectiveDialog', 'setup.generation_config') : undefined),
  // gemini-3.8-live: "Proactive audio is now permanently enabled. Setting proactive_audio: false returns an error" (same page).
  (c) => (!c.vertex && isGemini38(c) && proactivity(c.setup)?.['proactiveAudio'] === false ? invalidArgument() : undefined),
  // gemini-3.8-live: thinking_level "not supported: omit thinking_level (or thinking_config)" (same page); the SDK's
  // ThinkingConfig: "an error will be returned if this field is set for models that don't support thinking".
  (c) => (!c.vertex && c.id === 'gemini-3.8-live' && has(c.generation, 'thinkingConfig') ? invalidArgument() : undefined),
  // gemini-3.8-live-extended-thinking: thinking by level, low/medium/high (AgoraIO/agora-agents-python v2.9.0 release notes).
  (c) => {
    if (c.vertex || c.id !== 'gemini-3.8-live-extended-thinking' || thinking(c) === undefined) return undefined;
    const level = thinking(c)?.['thinkingLevel'];
    return has(thinking(c), 'thinkingBudget') || !['LOW', 'MEDIUM', 'HIGH'].includes(String(level)) ? invalidArgument() : undefined;
  },
  // gemini-3.8-live-extended-thinking: function calling "Supported (Async only)"
  // (https://ai.google.dev/gemini-api/docs/models/gemini-3.8-live-extended-thinking).
  (c) => (!c.vertex && c.id === 'gemini-3.8-live-extended-thinking' && declarations(c.setup).some((d) => d['behavior'] === 'BLOCKING') ? invalidArgument() : undefined),
  // gemini-3.1-flash-live-preview: "Proactive audio and affective dialog: not supported yet. Remove any configuration
  // for these features" (https://ai.google.dev/gemini-api/docs/models/gemini-3.1-flash-live-preview).
  (c) => (!c.vertex && c.id === 'gemini-3.1-flash-live-preview' && (has(c.generation, 'enableAffectiveDialog') || proactivity(c.setup) !== undefined) ? invalidArgument() : undefined),
  // gemini-3.1-flash-live-preview: thinkingLevel minimal/low/medium/high "instead of thinkingBudget" (same page).
  (c) => (!c.vertex && c.id === 'gemini-3.1-flash-live-preview' && has(thinking(c), 'thinkingBudget') ? invalidArgument() : undefined),
  // gemini-2.5-flash-native-audio-*: proactive audio and affective dialog only on v1alpha; on another version the
  // fields are unknown (googleapis/js-genai#696: `Unknown name "proactivity" at 'setup'`).
  (c) => (!c.vertex && c.id.startsWith('gemini-2.5-flash-native-audio') && c.apiVersion !== 'v1alpha' && proactivity(c.setup) !== undefined ? unknownField('proactivity', 'setup') : undefined),
  (c) =>
    !c.vertex && c.id.startsWith('gemini-2.5-flash-native-audio') && c.apiVersion !== 'v1alpha' && has(c.generation, 'enableAffectiveDialog')
      ? unknownField('enableAffectiveDialog', 'setup.generation_config')
      : undefined,
  // gemini-2.5-flash-native-audio-*: thinking by budget, not level (the 3.1 page, migrating from 2.5).
  (c) => (!c.vertex && c.id.startsWith('gemini-2.5-flash-native-audio') && has(thinking(c), 'thinkingLevel') ? invalidArgument() : undefined),
];

function declarations(setup: LiveClientSetup): Array<Record<string, unknown>> {
  const tools: unknown = setup.tools;
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) => (isRecord(tool) && Array.isArray(tool['functionDeclarations']) ? tool['functionDeclarations'].filter(isRecord) : []));
}

/** The close the real service would answer this setup with for its model's features, or undefined. */
export function modelFeatureRefusal(model: string, vertex: boolean, apiVersion: string | undefined, setup: LiveClientSetup): CloseSpec | undefined {
  const generation = isRecord(setup.generationConfig) ? setup.generationConfig : {};
  const context: RuleContext = { id: model.slice(model.lastIndexOf('/') + 1), vertex, apiVersion, generation, setup };
  for (const rule of RULES) {
    const refusal = rule(context);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}
