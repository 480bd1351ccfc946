import type { ThinkingLevel } from '../realtime-model.js';

/**
 * What each Gemini Live model we name offers, on the Gemini Developer API and on Vertex AI, feature by feature, each
 * fact with its public source, the date it was read, and how sure it is. docs/models.md shows the same table (a unit
 * test keeps the two equal). A new feature is one row here and one check in live-model-features.ts.
 *
 * Where the pages disagree, the row says so: Gemini 3.8 Live's page on the Gemini API says affective dialog was
 * removed, Vertex AI's 3.8 guide says it is on by default.
 */

export type GeminiBackend = 'gemini-api' | 'vertex-ai';

/** Google's default for new voice agents on the Gemini API (https://ai.google.dev/gemini-api/docs/models/gemini-3.8-live). */
export const DEFAULT_LIVE_MODEL = 'gemini-3.8-live';

/**
 * `documented`: Google's own page says so (a stored copy was read); `reported`: a public report or third party says
 * so; `unconfirmed`: cited elsewhere, or assumed from a sibling model, and not found in a stored public copy (the
 * note says which).
 */
export type FactBasis = 'documented' | 'reported' | 'unconfirmed';

export interface Fact<T> {
  readonly value: T;
  /** The API version the feature needs on this backend, when it needs one the SDK does not pick by default. */
  readonly apiVersion?: string;
  readonly source: string;
  /** When the source was read (ISO date). */
  readonly read: string;
  readonly basis: FactBasis;
  readonly note?: string;
}

/** A feature the model offers not at all, when asked for, or always (then it cannot be turned off). */
export type Offer = 'no' | 'optional' | 'always';

/** How the model's thinking is set: not at all, by one of these levels, or by a token budget. */
export type ThinkingControl = { readonly kind: 'none' } | { readonly kind: 'level'; readonly levels: readonly ThinkingLevel[] } | { readonly kind: 'budget' };

export const LIVE_MODEL_KEYS = [
  'gemini-api/gemini-3.8-live',
  'gemini-api/gemini-3.8-live-extended-thinking',
  'gemini-api/gemini-3.1-flash-live-preview',
  'gemini-api/gemini-2.5-flash-native-audio-*',
  'vertex-ai/gemini-3.8-live',
  'vertex-ai/gemini-live-2.5-flash-native-audio',
] as const;

/** A backend and a model id; an id ending in `*` names a family (`-preview-12-2025`, `-preview-09-2025`, `-latest`). */
export type LiveModelKey = (typeof LIVE_MODEL_KEYS)[number];

type Row<T> = { readonly [K in LiveModelKey]: Fact<T> };

export interface LiveFeatureTable {
  readonly affectiveDialog: Row<Offer>;
  readonly proactiveAudio: Row<Offer>;
  readonly thinking: Row<ThinkingControl>;
  readonly temperature: Row<boolean>;
  readonly blockingTools: Row<boolean>;
  readonly nonBlockingTools: Row<boolean>;
  readonly resultScheduling: Row<boolean>;
}

const READ = '2026-12-07';

const PAGE = {
  gemini38: 'https://ai.google.dev/gemini-api/docs/models/gemini-3.8-live',
  gemini38Thinking: 'https://ai.google.dev/gemini-api/docs/models/gemini-3.8-live-extended-thinking',
  gemini31: 'https://ai.google.dev/gemini-api/docs/models/gemini-3.1-flash-live-preview',
  liveGuide: 'https://ai.google.dev/gemini-api/docs/live-guide',
  liveTools: 'https://ai.google.dev/gemini-api/docs/live-api/tools',
  proactivityVersion: 'https://github.com/googleapis/js-genai/issues/696',
  thinkingLevels38: 'https://github.com/AgoraIO/agora-agents-python/releases/tag/v2.9.0',
  vertexCapabilities: 'https://docs.cloud.google.com/vertex-ai/generative-ai/docs/live-api/configure-gemini-capabilities',
  vertex25: 'https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/gemini/2-5-flash-live-api',
  vertex38Guide: 'https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/guides/gemini-3-8-live',
  vertexMigration38: 'https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/live-api/migrate-from-gemini-2-5-to-gemini-3-8-live',
  sdkTypes: '@google/genai 3.1.0 types (LiveConnectConfig.temperature)',
  vertexScheduling: 'https://github.com/livekit/agents/pull/3694',
} as const;

const MIRROR = 'read in a public mirror of the page (documentation.s3ns.fr)';

function fact<T>(value: T, source: string, basis: FactBasis, extra: { note?: string; apiVersion?: string } = {}): Fact<T> {
  return { value, source, read: READ, basis, ...extra };
}

const AS_38 = 'not stated on its own page; taken as gemini-3.8-live';

export const LIVE_FEATURES: LiveFeatureTable = {
  affectiveDialog: {
    'gemini-api/gemini-3.8-live': fact<Offer>('no', PAGE.gemini38, 'documented', { note: 'removed from the API: remove enable_affective_dialog' }),
    'gemini-api/gemini-3.8-live-extended-thinking': fact<Offer>('no', PAGE.gemini38Thinking, 'unconfirmed', { note: AS_38 }),
    'gemini-api/gemini-3.1-flash-live-preview': fact<Offer>('no', PAGE.gemini31, 'documented', { note: 'not supported yet: remove its configuration' }),
    'gemini-api/gemini-2.5-flash-native-audio-*': fact<Offer>('optional', PAGE.liveGuide, 'unconfirmed', { apiVersion: 'v1alpha', note: 'v1alpha only, per the Live guide as cited by others; no stored copy' }),
    'vertex-ai/gemini-3.8-live': fact<Offer>('always', PAGE.vertex38Guide, 'documented', { note: `"default-enabled affective dialogue"; the Gemini API page says it was removed (${MIRROR})` }),
    'vertex-ai/gemini-live-2.5-flash-native-audio': fact<Offer>('optional', PAGE.vertexCapabilities, 'documented'),
  },
  proactiveAudio: {
    'gemini-api/gemini-3.8-live': fact<Offer>('always', PAGE.gemini38, 'documented', { note: 'permanently enabled; proactive_audio: false returns an error' }),
    'gemini-api/gemini-3.8-live-extended-thinking': fact<Offer>('always', PAGE.gemini38Thinking, 'unconfirmed', { note: AS_38 }),
    'gemini-api/gemini-3.1-flash-live-preview': fact<Offer>('no', PAGE.gemini31, 'documented', { note: 'not supported yet: remove its configuration' }),
    'gemini-api/gemini-2.5-flash-native-audio-*': fact<Offer>('optional', PAGE.proactivityVersion, 'unconfirmed', {
      apiVersion: 'v1alpha',
      note: 'other versions refuse `proactivity` as an unknown field (reported there; no stored copy)',
    }),
    'vertex-ai/gemini-3.8-live': fact<Offer>('always', PAGE.vertex38Guide, 'documented', { note: `"proactive audio filtering", enabled by default (${MIRROR})` }),
    'vertex-ai/gemini-live-2.5-flash-native-audio': fact<Offer>('optional', PAGE.vertex25, 'documented', { note: 'preview; off unless asked for' }),
  },
  thinking: {
    'gemini-api/gemini-3.8-live': fact<ThinkingControl>({ kind: 'none' }, PAGE.gemini38, 'documented', { note: 'thinking_level is not supported: omit thinking_config' }),
    'gemini-api/gemini-3.8-live-extended-thinking': fact<ThinkingControl>({ kind: 'level', levels: ['low', 'medium', 'high'] }, PAGE.thinkingLevels38, 'unconfirmed', {
      note: "Google's page says thinking is supported; the levels are from a third party's release notes",
    }),
    'gemini-api/gemini-3.1-flash-live-preview': fact<ThinkingControl>({ kind: 'level', levels: ['minimal', 'low', 'medium', 'high'] }, PAGE.gemini31, 'documented', { note: 'default minimal' }),
    'gemini-api/gemini-2.5-flash-native-audio-*': fact<ThinkingControl>({ kind: 'budget' }, PAGE.gemini31, 'documented', { note: '"3.1 uses thinkingLevel instead of thinkingBudget" (migrating from 2.5)' }),
    'vertex-ai/gemini-3.8-live': fact<ThinkingControl>({ kind: 'none' }, PAGE.gemini38, 'unconfirmed', { note: 'the Gemini API page; the Vertex guide does not say' }),
    'vertex-ai/gemini-live-2.5-flash-native-audio': fact<ThinkingControl>({ kind: 'budget' }, PAGE.vertexCapabilities, 'documented', { note: 'thinking_budget; 0 turns thinking off' }),
  },
  temperature: {
    'gemini-api/gemini-3.8-live': fact(true, PAGE.sdkTypes, 'unconfirmed', { note: 'a session field of the SDK; no page says a Live model refuses it' }),
    'gemini-api/gemini-3.8-live-extended-thinking': fact(true, PAGE.sdkTypes, 'unconfirmed', { note: 'as above' }),
    'gemini-api/gemini-3.1-flash-live-preview': fact(true, PAGE.sdkTypes, 'unconfirmed', { note: 'as above' }),
    'gemini-api/gemini-2.5-flash-native-audio-*': fact(true, PAGE.sdkTypes, 'unconfirmed', { note: 'as above' }),
    'vertex-ai/gemini-3.8-live': fact(true, PAGE.sdkTypes, 'unconfirmed', { note: 'as above' }),
    'vertex-ai/gemini-live-2.5-flash-native-audio': fact(true, PAGE.sdkTypes, 'unconfirmed', { note: 'as above' }),
  },
  blockingTools: {
    'gemini-api/gemini-3.8-live': fact(true, PAGE.gemini38, 'documented', { note: 'behavior: BLOCKING still works, for backward compatibility' }),
    'gemini-api/gemini-3.8-live-extended-thinking': fact(false, PAGE.gemini38Thinking, 'documented', { note: 'function calling: "Async only"' }),
    'gemini-api/gemini-3.1-flash-live-preview': fact(true, PAGE.gemini31, 'documented', { note: 'synchronous only: the model waits for the answer' }),
    'gemini-api/gemini-2.5-flash-native-audio-*': fact(true, PAGE.liveTools, 'unconfirmed', { note: 'the Live tools page as cited by others; no stored copy' }),
    'vertex-ai/gemini-3.8-live': fact(true, PAGE.vertexMigration38, 'documented', { note: `a blocking call is cancelled when new input arrives (${MIRROR})` }),
    'vertex-ai/gemini-live-2.5-flash-native-audio': fact(true, PAGE.vertex38Guide, 'documented', { note: `"asynchronous and synchronous" (${MIRROR})` }),
  },
  nonBlockingTools: {
    'gemini-api/gemini-3.8-live': fact(true, PAGE.gemini38, 'documented', { note: 'NON_BLOCKING is the default' }),
    'gemini-api/gemini-3.8-live-extended-thinking': fact(true, PAGE.gemini38Thinking, 'documented'),
    'gemini-api/gemini-3.1-flash-live-preview': fact(false, PAGE.gemini31, 'documented', { note: 'asynchronous function calling is not supported yet' }),
    'gemini-api/gemini-2.5-flash-native-audio-*': fact(true, PAGE.liveTools, 'unconfirmed', { note: 'the Live tools page as cited by others; no stored copy' }),
    'vertex-ai/gemini-3.8-live': fact(true, PAGE.vertex38Guide, 'documented', { note: MIRROR }),
    'vertex-ai/gemini-live-2.5-flash-native-audio': fact(true, PAGE.vertexMigration38, 'documented', { note: `"allows asynchronous tool calls" (${MIRROR})` }),
  },
  resultScheduling: {
    'gemini-api/gemini-3.8-live': fact(true, PAGE.gemini38, 'documented', { note: 'SILENT, WHEN_IDLE, INTERRUPT' }),
    'gemini-api/gemini-3.8-live-extended-thinking': fact(true, PAGE.gemini38Thinking, 'unconfirmed', { note: AS_38 }),
    'gemini-api/gemini-3.1-flash-live-preview': fact(false, PAGE.gemini31, 'documented', { note: 'no asynchronous calls, so nothing to schedule' }),
    'gemini-api/gemini-2.5-flash-native-audio-*': fact(true, PAGE.liveTools, 'unconfirmed', { note: 'the Live tools page as cited by others; no stored copy' }),
    'vertex-ai/gemini-3.8-live': fact(true, PAGE.vertexMigration38, 'documented', { note: `INTERRUPT waits for the caller to finish (${MIRROR})` }),
    'vertex-ai/gemini-live-2.5-flash-native-audio': fact(true, PAGE.vertexMigration38, 'documented', {
      note: `INTERRUPT cuts in at once (${MIRROR}); the Python SDK refuses scheduling on Vertex AI (${PAGE.vertexScheduling}), the JS SDK sends it`,
    }),
  },
};

export type LiveFeatureName = keyof LiveFeatureTable;

/** The feature names in the order docs/models.md lists them, with the words a sentence uses for each. */
export const FEATURE_WORDS: Readonly<Record<LiveFeatureName, string>> = {
  affectiveDialog: 'affective dialog',
  proactiveAudio: 'proactive audio',
  thinking: 'thinking',
  temperature: 'temperature',
  blockingTools: 'BLOCKING tools',
  nonBlockingTools: 'NON_BLOCKING tools',
  resultScheduling: 'tool result scheduling',
};

export const BACKEND_NAMES: Readonly<Record<GeminiBackend, string>> = { 'gemini-api': 'Gemini API', 'vertex-ai': 'Vertex AI' };

/** The id a model name stands for: `models/x` and Vertex's `projects/…/publishers/google/models/x` are `x`. */
export function modelId(model: string): string {
  return model.slice(model.lastIndexOf('/') + 1);
}

/** The table's key for a model on a backend, or undefined for a model the table does not name. */
export function liveModelKey(model: string, backend: GeminiBackend): LiveModelKey | undefined {
  const id = modelId(model);
  return LIVE_MODEL_KEYS.find((key) => {
    const [keyBackend, keyId] = key.split('/') as [string, string];
    if (keyBackend !== backend) return false;
    return keyId.endsWith('*') ? id.startsWith(keyId.slice(0, -1)) : id === keyId;
  });
}

/** The models the table names on a backend, for messages. */
export function namedModels(backend: GeminiBackend): string[] {
  return LIVE_MODEL_KEYS.filter((key) => key.startsWith(`${backend}/`)).map((key) => key.slice(backend.length + 1));
}
