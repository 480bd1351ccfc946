import { readFileSync } from 'node:fs';
import { ThinkingLevel } from '@google/genai';
import { describe, expect, it } from 'vitest';
import type { AgentModelSettings, ModelFeatures } from '../../../src/model/realtime-model.js';
import { liveApiVersion, liveCapabilities, liveFeatureConfig, liveFeatureProblems } from '../../../src/model/gemini/live-model-features.js';
import { BACKEND_NAMES, FEATURE_WORDS, LIVE_FEATURES, LIVE_MODEL_KEYS, liveModelKey, type Fact, type GeminiBackend, type LiveFeatureName } from '../../../src/model/gemini/live-models.js';
import type { ToolDeclaration } from '../../../src/domain/tool-declaration.js';

const tool = (name: string, behavior: ToolDeclaration['behavior'], scheduling?: ToolDeclaration['scheduling']): ToolDeclaration => ({
  name,
  description: 'x',
  behavior,
  ...(scheduling === undefined ? {} : { scheduling }),
  parameters: { type: 'object', properties: {} },
});
const settings = (model: string, features: ModelFeatures, tools: ToolDeclaration[] = []): AgentModelSettings => ({ model, voice: undefined, features, tools });
const problems = (model: string, features: ModelFeatures, backend: GeminiBackend = 'gemini-api', tools: ToolDeclaration[] = [], apiVersion?: string) =>
  liveFeatureProblems(settings(model, features, tools), backend, apiVersion);

describe('the capability table', () => {
  it('gives every fact a source, the date it was read, and says why one is not confirmed', () => {
    for (const [feature, row] of Object.entries(LIVE_FEATURES)) {
      for (const key of LIVE_MODEL_KEYS) {
        const fact: Fact<unknown> = (row as Record<string, Fact<unknown>>)[key]!;
        expect(fact.source, `${feature} ${key}`).toMatch(/^(https:\/\/|@google\/genai)/);
        expect(fact.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        if (fact.basis === 'unconfirmed') expect(fact.note, `${feature} ${key}`).toBeTruthy();
      }
    }
  });

  it('finds a model by its id whatever the prefix, and a family by its stem', () => {
    expect(liveModelKey('gemini-3.8-live', 'gemini-api')).toBe('gemini-api/gemini-3.8-live');
    expect(liveModelKey('models/gemini-3.8-live', 'gemini-api')).toBe('gemini-api/gemini-3.8-live');
    expect(liveModelKey('gemini-2.5-flash-native-audio-preview-12-2025', 'gemini-api')).toBe('gemini-api/gemini-2.5-flash-native-audio-*');
    expect(liveModelKey('projects/p/locations/us-central1/publishers/google/models/gemini-live-2.5-flash-native-audio', 'vertex-ai')).toBe('vertex-ai/gemini-live-2.5-flash-native-audio');
    expect(liveModelKey('gemini-live-2.5-flash-native-audio', 'gemini-api')).toBeUndefined(); // a Vertex model
    expect(liveModelKey('gemini-9-live', 'gemini-api')).toBeUndefined();
  });

  it('fills the contract\'s capability flags per model and backend', () => {
    expect(liveCapabilities('gemini-3.8-live', 'gemini-api')).toMatchObject({
      affectiveDialog: false,
      proactiveAudio: true,
      thinking: 'none',
      blockingTools: true,
      nonBlockingTools: true,
      toolResultScheduling: true,
      sessionResumption: true,
      usageReporting: 'perResponse',
    });
    expect(liveCapabilities('gemini-3.8-live', 'vertex-ai')).toMatchObject({ affectiveDialog: true, proactiveAudio: true });
    expect(liveCapabilities('gemini-3.8-live-extended-thinking', 'gemini-api')).toMatchObject({ thinking: 'level', blockingTools: false, nonBlockingTools: true });
    expect(liveCapabilities('gemini-3.1-flash-live-preview', 'gemini-api')).toMatchObject({ thinking: 'level', nonBlockingTools: false, toolResultScheduling: false, proactiveAudio: false });
    expect(liveCapabilities('gemini-2.5-flash-native-audio-latest', 'gemini-api')).toMatchObject({ thinking: 'budget', affectiveDialog: true, proactiveAudio: true });
    // A model the table does not name: what Live models generally do, nothing set per model.
    expect(liveCapabilities('gemini-9-live', 'gemini-api')).toMatchObject({ affectiveDialog: false, thinking: 'none', blockingTools: true, nonBlockingTools: true, toolResultScheduling: true });
  });
});

describe('an agent\'s model features, checked at start-up', () => {
  it('accepts what each model offers', () => {
    expect(problems('gemini-2.5-flash-native-audio-preview-12-2025', { affectiveDialog: true, proactiveAudio: true, thinking: { budget: 0 }, temperature: 0.4 })).toEqual([]);
    expect(problems('gemini-3.1-flash-live-preview', { thinking: { level: 'minimal' } }, 'gemini-api', [tool('lookup', 'BLOCKING')])).toEqual([]);
    expect(problems('gemini-3.8-live', { proactiveAudio: true, temperature: 1 }, 'gemini-api', [tool('lookup', 'NON_BLOCKING', 'silent'), tool('book', 'BLOCKING')])).toEqual([]);
    expect(problems('gemini-live-2.5-flash-native-audio', { affectiveDialog: true, proactiveAudio: true, thinking: { budget: 256 } }, 'vertex-ai')).toEqual([]);
    expect(problems('gemini-3.8-live', { affectiveDialog: true }, 'vertex-ai')).toEqual([]); // on by default there
  });

  it('refuses what a model does not offer, naming the model, the feature and what to do instead', () => {
    expect(problems('gemini-3.8-live', { affectiveDialog: true })).toEqual([
      'model gemini-3.8-live (Gemini API) does not offer affective dialog: remove affectiveDialog, or use a model that offers it (gemini-2.5-flash-native-audio-*; docs/models.md)',
    ]);
    expect(problems('gemini-3.8-live', { proactiveAudio: false })).toEqual(['model gemini-3.8-live (Gemini API) always uses proactive audio and refuses to turn it off: remove proactiveAudio: false']);
    expect(problems('gemini-3.8-live', { thinking: { level: 'low' } })[0]).toMatch(/^model gemini-3\.8-live \(Gemini API\) takes no thinking setting: remove thinking, or use a model that offers it \(gemini-3\.8-live-extended-thinking, gemini-3\.1-flash-live-preview, gemini-2\.5-flash-native-audio-\*/);
    expect(problems('gemini-3.1-flash-live-preview', { thinking: { budget: 0 } })).toEqual([
      "model gemini-3.1-flash-live-preview (Gemini API) sets thinking by a level, not a budget: use thinking: { level: 'minimal' } (one of minimal, low, medium, high)",
    ]);
    expect(problems('gemini-2.5-flash-native-audio-latest', { thinking: { level: 'low' } })).toEqual([
      'model gemini-2.5-flash-native-audio-latest (Gemini API) sets thinking by a token budget, not a level: use thinking: { budget: <tokens> } (0 turns thinking off)',
    ]);
    expect(problems('gemini-3.8-live-extended-thinking', { thinking: { level: 'minimal' } })).toEqual(['model gemini-3.8-live-extended-thinking (Gemini API) takes thinking levels low, medium, high: "minimal" is not one']);
  });

  it('checks each tool\'s behaviour and result scheduling against the model', () => {
    expect(problems('gemini-3.8-live-extended-thinking', {}, 'gemini-api', [tool('book', 'BLOCKING')])).toEqual([
      'model gemini-3.8-live-extended-thinking (Gemini API) runs tools only asynchronously: declare tool "book" with behavior NON_BLOCKING',
    ]);
    expect(problems('gemini-3.1-flash-live-preview', {}, 'gemini-api', [tool('lookup', 'NON_BLOCKING', 'whenIdle')])).toEqual([
      'model gemini-3.1-flash-live-preview (Gemini API) runs tools synchronously only: declare tool "lookup" with behavior BLOCKING',
      'model gemini-3.1-flash-live-preview (Gemini API) does not schedule tool results: remove scheduling from tool "lookup"',
    ]);
  });

  it('refuses per-model features on a model the table does not name, since they cannot be checked; temperature and tools pass', () => {
    expect(problems('gemini-9-live', { affectiveDialog: true, temperature: 0.2 }, 'gemini-api', [tool('a', 'BLOCKING'), tool('b', 'NON_BLOCKING', 'interrupt')])).toEqual([
      'model gemini-9-live (Gemini API) is not in the capability table (docs/models.md), so whether it offers affective dialog cannot be checked: remove affectiveDialog, or use one of gemini-3.8-live, gemini-3.8-live-extended-thinking, gemini-3.1-flash-live-preview, gemini-2.5-flash-native-audio-*',
    ]);
  });

  it('picks the API version a feature needs, and refuses a GEMINI_API_VERSION that clashes with it', () => {
    const model = 'gemini-2.5-flash-native-audio-preview-12-2025';
    expect(liveApiVersion(model, 'gemini-api', { affectiveDialog: true }, undefined)).toBe('v1alpha');
    expect(liveApiVersion(model, 'gemini-api', { thinking: { budget: 0 } }, undefined)).toBeUndefined(); // the SDK's default
    expect(liveApiVersion(model, 'gemini-api', { affectiveDialog: true }, 'v1alpha')).toBe('v1alpha');
    expect(liveApiVersion('gemini-live-2.5-flash-native-audio', 'vertex-ai', { affectiveDialog: true }, undefined)).toBeUndefined();
    expect(problems(model, { proactiveAudio: true }, 'gemini-api', [], 'v1beta')).toEqual([
      `model ${model} (Gemini API) offers proactive audio on API version v1alpha only, but GEMINI_API_VERSION is v1beta: unset GEMINI_API_VERSION (the service then picks v1alpha for this agent) or set it to v1alpha`,
    ]);
    expect(problems(model, { proactiveAudio: false }, 'gemini-api', [], 'v1beta')).toEqual([]); // nothing is sent, so no version is needed
  });

  it('turns the features into setup fields, sending nothing for a feature the model always has', () => {
    expect(liveFeatureConfig('gemini-2.5-flash-native-audio-latest', 'gemini-api', { affectiveDialog: true, proactiveAudio: true, thinking: { budget: 0 }, temperature: 0.4 })).toEqual({
      enableAffectiveDialog: true,
      proactivity: { proactiveAudio: true },
      thinkingConfig: { thinkingBudget: 0 },
      temperature: 0.4,
    });
    expect(liveFeatureConfig('gemini-3.8-live', 'gemini-api', { proactiveAudio: true })).toEqual({});
    expect(liveFeatureConfig('gemini-3.8-live', 'vertex-ai', { affectiveDialog: true, proactiveAudio: true })).toEqual({});
    expect(liveFeatureConfig('gemini-3.1-flash-live-preview', 'gemini-api', { thinking: { level: 'low' } })).toEqual({ thinkingConfig: { thinkingLevel: ThinkingLevel.LOW } });
    expect(liveFeatureConfig('gemini-2.5-flash-native-audio-latest', 'gemini-api', { affectiveDialog: false })).toEqual({});
  });
});

/** The table as docs/models.md shows it: one per backend, a feature per row, a model per column. */
function markdownTable(backend: GeminiBackend): string {
  const keys = LIVE_MODEL_KEYS.filter((key) => key.startsWith(`${backend}/`));
  const header = `| ${BACKEND_NAMES[backend]} | ${keys.map((key) => `\`${key.slice(backend.length + 1)}\``).join(' | ')} |`;
  const rows = (Object.keys(FEATURE_WORDS) as LiveFeatureName[]).map((feature) => {
    const cells = keys.map((key) => cell((LIVE_FEATURES[feature] as Record<string, Fact<unknown>>)[key]!));
    return `| ${FEATURE_WORDS[feature]} | ${cells.join(' | ')} |`;
  });
  return [header, `|---|${keys.map(() => '---').join('|')}|`, ...rows].join('\n');
}

function cell(fact: Fact<unknown>): string {
  const value = fact.value;
  const text =
    typeof value === 'boolean'
      ? value ? 'yes' : 'no'
      : typeof value === 'string'
        ? { no: 'no', optional: 'yes', always: 'always on' }[value]
        : (value as { kind: string; levels?: string[] }).kind === 'level'
          ? `level: ${(value as { levels: string[] }).levels.join(', ')}`
          : (value as { kind: string }).kind === 'budget' ? 'budget' : 'no';
  const version = fact.apiVersion === undefined ? '' : ` (${fact.apiVersion})`;
  const mark = fact.basis === 'documented' ? '' : fact.basis === 'reported' ? ' ²' : ' ¹';
  return `${text}${version}${mark}`;
}

describe('docs/models.md', () => {
  it('shows the table the code checks against', () => {
    const doc = readFileSync(new URL('../../../docs/models.md', import.meta.url), 'utf8');
    expect(doc).toContain(markdownTable('gemini-api'));
    expect(doc).toContain(markdownTable('vertex-ai'));
  });
});
