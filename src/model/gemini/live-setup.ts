import { Behavior, Modality, Type, type FunctionDeclaration, type LiveConnectConfig, type Schema } from '@google/genai';
import type { ParameterSchema } from '../../domain/tool-declaration.js';
import type { ConversationSettings, ToolDeclaration } from '../realtime-model.js';
import { inputAudioTranscription, realtimeInputConfig } from './turn-settings.js';
import { DEFAULT_VOICE } from './voices.js';

/** What one Live connection is set up with: the call's settings, and where it resumes from. */
export interface LiveSetup extends Pick<ConversationSettings, 'voice' | 'instructions' | 'tools' | 'turns' | 'inputTranscription'> {
  /** A handle from `sessionResumptionUpdate` to continue an earlier session; absent for a new one. */
  resumptionHandle?: string;
  /** The agent's model features as setup fields (live-model-features.ts `liveFeatureConfig`). */
  features?: Pick<LiveConnectConfig, 'enableAffectiveDialog' | 'proactivity' | 'thinkingConfig' | 'temperature'>;
}

/**
 * Context compression keeps an audio-only session alive past 15 minutes. A modest trigger also keeps
 * response latency from creeping up as the context grows (gemini-live.md §9.9); the target keeps half.
 */
export const COMPRESSION_TRIGGER_TOKENS = 25_600;
export const COMPRESSION_TARGET_TOKENS = 12_800;

/**
 * The Live setup for one phone call: audio out, the voice and instructions, transcripts both ways, and how turns are
 * taken (no `realtimeInputConfig` when the agent set nothing: the model's defaults).
 */
export function buildLiveConnectConfig(setup: LiveSetup): LiveConnectConfig {
  const turns = setup.turns === undefined ? undefined : realtimeInputConfig(setup.turns);
  return {
    responseModalities: [Modality.AUDIO],
    speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: setup.voice ?? DEFAULT_VOICE } } },
    systemInstruction: setup.instructions,
    ...(turns === undefined ? {} : { realtimeInputConfig: turns }),
    inputAudioTranscription: inputAudioTranscription(setup.inputTranscription),
    outputAudioTranscription: {},
    sessionResumption: setup.resumptionHandle === undefined ? {} : { handle: setup.resumptionHandle },
    contextWindowCompression: {
      triggerTokens: String(COMPRESSION_TRIGGER_TOKENS),
      slidingWindow: { targetTokens: String(COMPRESSION_TARGET_TOKENS) },
    },
    ...(setup.tools.length === 0 ? {} : { tools: [{ functionDeclarations: setup.tools.map(toFunctionDeclaration) }] }),
    ...setup.features,
  };
}

/**
 * A tool as Gemini declares it, as fresh objects every time (the SDK rewrites declaration schemas in place while it
 * builds the setup message). Parameters go in `parameters` (OpenAPI Schema), not `parametersJsonSchema`: Live
 * models have been reported to call tools declared with the latter with empty arguments
 * (googleapis/python-genai#1147). A tool without arguments has no `parameters` at all: Gemini refuses an OBJECT
 * with no properties.
 */
export function toFunctionDeclaration(tool: ToolDeclaration): FunctionDeclaration {
  const declaration: FunctionDeclaration = {
    name: tool.name,
    description: tool.description,
    behavior: tool.behavior === 'BLOCKING' ? Behavior.BLOCKING : Behavior.NON_BLOCKING,
  };
  if (Object.keys(tool.parameters.properties).length > 0) declaration.parameters = toGeminiSchema(tool.parameters);
  return declaration;
}

const GEMINI_TYPES = {
  string: Type.STRING,
  integer: Type.INTEGER,
  number: Type.NUMBER,
  boolean: Type.BOOLEAN,
  array: Type.ARRAY,
  object: Type.OBJECT,
} as const;

/** The OpenAPI-style `Schema` Gemini's `parameters` field takes. `sensitive` is ours alone and is not sent. */
export function toGeminiSchema(schema: ParameterSchema): Schema {
  const out: Schema = { type: GEMINI_TYPES[schema.type] };
  if (schema.description !== undefined) out.description = schema.description;
  switch (schema.type) {
    case 'string':
      if (schema.enum !== undefined) {
        out.format = 'enum';
        out.enum = [...schema.enum];
      }
      if (schema.pattern !== undefined) out.pattern = schema.pattern;
      // Schema carries int64 limits as decimal strings (protobuf JSON).
      if (schema.minLength !== undefined) out.minLength = String(schema.minLength);
      if (schema.maxLength !== undefined) out.maxLength = String(schema.maxLength);
      break;
    case 'integer':
    case 'number':
      if (schema.minimum !== undefined) out.minimum = schema.minimum;
      if (schema.maximum !== undefined) out.maximum = schema.maximum;
      break;
    case 'boolean':
      break;
    case 'array':
      out.items = toGeminiSchema(schema.items);
      if (schema.minItems !== undefined) out.minItems = String(schema.minItems);
      if (schema.maxItems !== undefined) out.maxItems = String(schema.maxItems);
      break;
    case 'object': {
      const names = Object.keys(schema.properties);
      out.properties = Object.fromEntries(names.map((name) => [name, toGeminiSchema(schema.properties[name] as ParameterSchema)]));
      if (schema.required !== undefined && schema.required.length > 0) out.required = [...schema.required];
      break;
    }
  }
  return out;
}
