import { Writable } from 'node:stream';
import { ThinkingLevel, type FunctionDeclaration, type LiveConnectConfig, type Tool } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agents/agent.js';
import { GeminiLiveSession, ModelSetupError } from '../../src/model/gemini/live-session.js';
import { createLogger } from '../../src/observability/logger.js';
import { DefinitionError, defineTool } from '../../src/tools/tool.js';
import { startFakeGeminiLive, type FakeGeminiLive, type FakeSession } from '../fakes/gemini-live/server.js';
import { startBridge, type Bridge } from '../support/bridge-harness.js';

/**
 * Per-agent model features through the real server, the real SDK and the fake Live server, whose rules for these
 * fields follow the real service per model (test/fakes/gemini-live/model-rules.ts; docs/models.md).
 */
const lookup = defineTool({ name: 'lookup_table', description: 'Finds a table.', behavior: 'NON_BLOCKING', scheduling: 'silent', handler: () => ({ free: 2 }) });
const declarations = (session: FakeSession): FunctionDeclaration[] => ((session.setup?.tools ?? []) as Tool[]).flatMap((tool) => tool.functionDeclarations ?? []);

describe('an agent turns on the features its model offers', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  it('2.5 native audio: affective dialog, proactive audio, a thinking budget and a temperature, on the v1alpha API the service picks for them', async () => {
    const agent = defineAgent({
      name: 'warm',
      instructions: 'You are warm.',
      model: 'gemini-2.5-flash-native-audio-preview-12-2025',
      affectiveDialog: true,
      proactiveAudio: true,
      thinking: { budget: 0 },
      temperature: 0.4,
      tools: [lookup],
    });
    bridge = await startBridge({ agents: () => [agent], gemini: { replies: ({ turnIndex }) => (turnIndex === 0 ? { text: 'Hello.' } : undefined) } });
    const { twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 }); // the service accepted the setup and the model spoke
    expect(session.apiVersion).toBe('v1alpha');
    expect(session.setup).toMatchObject({
      model: 'models/gemini-2.5-flash-native-audio-preview-12-2025',
      generationConfig: { enableAffectiveDialog: true, thinkingConfig: { thinkingBudget: 0 }, temperature: 0.4 },
      proactivity: { proactiveAudio: true },
    });
    expect(declarations(session).find((d) => d.name === 'lookup_table')).toMatchObject({ behavior: 'NON_BLOCKING' });
    await twilio.hangUp();
  });

  it('3.8 extended thinking: a thinking level, and the built-in tools declared NON_BLOCKING (it runs tools only asynchronously)', async () => {
    const agent = defineAgent({ name: 'thinker', instructions: 'You think.', model: 'gemini-3.8-live-extended-thinking', thinking: { level: 'high' }, tools: [lookup] });
    bridge = await startBridge({ agents: () => [agent], env: { TRANSFER_NUMBER: '+14155550199' }, gemini: { replies: [{ text: 'Hello.' }] } });
    const { twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    expect(session.apiVersion).toBe('v1');
    expect(session.setup?.generationConfig).toMatchObject({ thinkingConfig: { thinkingLevel: ThinkingLevel.HIGH } });
    expect(declarations(session).map((d) => [d.name, d.behavior])).toEqual([
      ['end_call', 'NON_BLOCKING'],
      ['transfer_call', 'NON_BLOCKING'],
      ['lookup_table', 'NON_BLOCKING'],
    ]);
    await twilio.hangUp();
  });

  it('refuses at start-up a combination the model does not offer, naming the agent, the model, the feature and what to do instead', async () => {
    const agents = () => [
      defineAgent({ name: 'moody', instructions: 'm', model: 'gemini-3.8-live', affectiveDialog: true, proactiveAudio: false, phoneNumbers: ['+14155550111'] }),
      defineAgent({ name: 'old', instructions: 'o', model: 'gemini-2.5-flash-native-audio-latest', proactiveAudio: true }),
    ];
    const refusal = await startBridge({ agents, env: { GEMINI_API_VERSION: 'v1beta' } }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DefinitionError);
    expect((refusal as DefinitionError).problems).toEqual([
      expect.stringMatching(/^agent "moody": model gemini-3\.8-live \(Gemini API\) does not offer affective dialog: remove affectiveDialog/),
      'agent "moody": model gemini-3.8-live (Gemini API) always uses proactive audio and refuses to turn it off: remove proactiveAudio: false',
      'agent "old": model gemini-2.5-flash-native-audio-latest (Gemini API) offers proactive audio on API version v1alpha only, but GEMINI_API_VERSION is v1beta: unset GEMINI_API_VERSION (the service then picks v1alpha for this agent) or set it to v1alpha',
    ]);
  });
});

describe('errors users see, with what to change', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  it('a model the key cannot use (1008) ends the call with a sentence saying what to change, in the log', async () => {
    bridge = await startBridge({ gemini: { models: ['gemini-3.1-flash-live-preview'] } });
    const { callSid } = await bridge.placeCall();
    const failed = await bridge.waitForLog((line) => line.msg === 'could not open a model session' && line.callSid === callSid);
    expect((failed.err as { message: string }).message).toMatch(
      /\(code 1008\): models\/gemini-3\.8-live is not found for API version v1.*To fix: model gemini-3\.8-live on Gemini API \(API version the SDK default\) is not a Live model this key can use: set GEMINI_MODEL/,
    );
    expect(await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid)).toMatchObject({ endReason: 'model-setup-failed' });
  });

  it('a session closed mid-call is logged with what the close means', async () => {
    bridge = await startBridge({ gemini: { replies: [{ text: 'Hello.' }] } });
    const { twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    session.closeWith(1011, 'The service is currently unavailable.');
    const line = await bridge.waitForLog((l) => l.msg === 'Live session closed unexpectedly; reconnecting');
    expect(line).toMatchObject({ code: 1011, advice: expect.stringMatching(/^Gemini is unavailable right now/) });
    await twilio.hangUp();
  });
});

describe('the fake Live server refuses these fields per model as the real service does', () => {
  let fake: FakeGeminiLive | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

  /** Opens a session with raw setup fields, past the service's own checks, as a client that skipped them would. */
  async function refusalOf(model: string, features: Pick<LiveConnectConfig, 'enableAffectiveDialog' | 'proactivity' | 'thinkingConfig'>, apiVersion?: string): Promise<string | undefined> {
    fake ??= await startFakeGeminiLive({ apiKey: 'k' });
    const opening = GeminiLiveSession.open({
      auth: { kind: 'api-key', apiKey: 'k' },
      baseUrl: fake.baseUrl,
      model,
      apiVersion,
      voice: undefined,
      instructions: 'x',
      tools: [],
      features,
      setupTimeoutMs: 2_000,
      log: silent,
      onEvent: () => undefined,
    });
    const result = await opening.then(
      (session) => {
        session.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    if (result === undefined) return undefined;
    expect(result).toBeInstanceOf(ModelSetupError);
    return (result as Error).message;
  }

  it('refuses what each named model refuses, and accepts the same field where the model offers it', async () => {
    expect(await refusalOf('gemini-3.8-live', { enableAffectiveDialog: true })).toMatch(/1007.*Unknown name "enableAffectiveDialog"/);
    expect(await refusalOf('gemini-3.8-live', { proactivity: { proactiveAudio: false } })).toMatch(/1007/);
    expect(await refusalOf('gemini-3.8-live', { proactivity: { proactiveAudio: true } })).toBeUndefined();
    expect(await refusalOf('gemini-3.8-live', { thinkingConfig: { thinkingLevel: ThinkingLevel.LOW } })).toMatch(/1007/);
    expect(await refusalOf('gemini-3.1-flash-live-preview', { proactivity: { proactiveAudio: true } })).toMatch(/1007/);
    expect(await refusalOf('gemini-3.1-flash-live-preview', { thinkingConfig: { thinkingLevel: ThinkingLevel.MINIMAL } })).toBeUndefined();
    expect(await refusalOf('gemini-2.5-flash-native-audio-preview-12-2025', { proactivity: { proactiveAudio: true } }, 'v1beta')).toMatch(/1007.*Unknown name "proactivity" at 'setup'/);
    expect(await refusalOf('gemini-2.5-flash-native-audio-preview-12-2025', { proactivity: { proactiveAudio: true }, enableAffectiveDialog: true }, 'v1alpha')).toBeUndefined();
    expect(await refusalOf('gemini-3.8-live-extended-thinking', { thinkingConfig: { thinkingBudget: 100 } })).toMatch(/1007/);
  });
});
