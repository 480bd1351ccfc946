import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defineAgent, DEFAULT_CUES, DEFAULT_VOICEMAIL_INSTRUCTIONS, instructionsFor } from '../../../src/agents/agent.js';
import { AgentDirectory } from '../../../src/agents/agent-directory.js';
import { callDetails } from '../../../src/domain/call-details.js';
import { createLocalModel } from '../../../src/local-agent/local-agent.js';
import { createGeminiModel } from '../../../src/model/gemini/gemini-model.js';
import { createLogger } from '../../../src/observability/logger.js';
import { HttpToolClient, signToolRequest, verifyToolRequestSignature } from '../../../src/tools/http-tool.js';
import { defineTool, ToolError, type ToolContext } from '../../../src/tools/tool.js';
import { problemsOf } from '../../support/definition-problems.js';

const SECRET = 'a-tool-webhook-secret-of-32-chars!';
const gemini = createGeminiModel({ auth: { kind: 'api-key', apiKey: 'unused' }, model: 'gemini-test-live', apiVersion: undefined, setupTimeoutMs: 1_000 });
const options = { transferNumber: undefined, toolWebhookSecret: SECRET, model: gemini };

describe('defineAgent', () => {
  it('fills defaults: greetings and cues; the voice is the model\'s default unless named', () => {
    const agent = defineAgent({ name: 'dental', instructions: 'You answer calls.' });
    expect(agent.voice).toBeUndefined();
    expect(agent.greeting.inbound).toBe(DEFAULT_CUES.inboundGreeting);
    expect(agent.greeting.outbound).toBe(DEFAULT_CUES.outboundGreeting);
    expect(agent.cues.apology).toBe(DEFAULT_CUES.apology);
  });

  it('names the agent and every bad field at once', () => {
    const problems = problemsOf(() =>
      defineAgent({ name: 'dental', instructions: '', voice: 42 as never, phoneNumbers: ['555-1234'], cues: { keypadDigits: 'no placeholder' }, colour: 'blue' } as never),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^agent "dental": instructions must not be empty/),
        expect.stringMatching(/^agent "dental": voice must be the name of one of the model's voices/),
        expect.stringMatching(/^agent "dental": phoneNumbers\[0\] must be an E\.164 phone number/),
        expect.stringMatching(/^agent "dental": cues\.keypadDigits must contain \{digits\}/),
        expect.stringMatching(/^agent "dental": colour is not an agent field/),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it("leaves a composed voicemail on machines by default, and checks the voicemail, transfer mode and cue placeholders", () => {
    expect(defineAgent({ name: 'dental', instructions: 'x' })).toMatchObject({ voicemail: { instructions: DEFAULT_VOICEMAIL_INSTRUCTIONS }, transferMode: undefined });
    expect(defineAgent({ name: 'dental', instructions: 'x', voicemail: 'hang-up', transferMode: 'warm' })).toMatchObject({ voicemail: 'hang-up', transferMode: 'warm' });
    expect(defineAgent({ name: 'dental', instructions: 'x', voicemail: { message: 'Call us back at the practice.' } }).voicemail).toEqual({ message: 'Call us back at the practice.' });
    const problems = problemsOf(() =>
      defineAgent({ name: 'dental', instructions: 'x', voicemail: { message: ' ' }, transferMode: 'lukewarm', cues: { transferWhisper: 'No summary here', voicemailCompose: 'No instructions' } } as never),
    );
    expect(problems).toEqual([
      'agent "dental": transferMode must be "cold" or "warm"',
      'agent "dental": voicemail message must be a non-empty string',
      'agent "dental": cues.transferWhisper must contain {summary}',
      'agent "dental": cues.voicemailCompose must contain {instructions}',
    ]);
    expect(problemsOf(() => defineAgent({ name: 'dental', instructions: 'x', voicemail: { message: 'a', instructions: 'b' } } as never))).toEqual([
      `agent "dental": voicemail must be { message: '…' }, { instructions: '…' } or 'hang-up'`,
    ]);
  });

  it('refuses a tool with both a handler and a url, and an http url off this machine', () => {
    const problems = problemsOf(() =>
      defineTool({ name: 'x', description: 'd', behavior: 'BLOCKING', url: 'http://crm.example.com/x', handler: () => 1 } as never),
    );
    expect(problems.join('\n')).toMatch(/tool "x": give either handler .* not both/);
    expect(problemsOf(() => defineTool({ name: 'y', description: 'd', behavior: 'BLOCKING', url: 'http://crm.example.com/y' }))[0]).toMatch(/must be https/);
    expect(problemsOf(() => defineTool({ name: 'z', description: 'd', behavior: 'BLOCKING', url: 'http://127.0.0.1:9/z' }))).toEqual([]);
  });

  it('keeps the model features it sets, and checks their types (whether the model offers them is checked at start-up)', () => {
    const agent = defineAgent({ name: 'warm', instructions: 'w', affectiveDialog: true, thinking: { budget: 0 }, temperature: 0.3 });
    expect(agent.features).toEqual({ affectiveDialog: true, thinking: { budget: 0 }, temperature: 0.3 });
    expect(defineAgent({ name: 'plain', instructions: 'p' }).features).toEqual({});
    const problems = problemsOf(() =>
      defineAgent({ name: 'bad', instructions: 'b', affectiveDialog: 'yes', proactiveAudio: 1, thinking: { level: 'extreme' }, temperature: 3 } as never),
    );
    expect(problems).toEqual([
      'agent "bad": affectiveDialog must be true or false',
      'agent "bad": proactiveAudio must be true or false',
      'agent "bad": temperature must be a number from 0 to 2',
      "agent \"bad\": thinking must be { level: 'minimal' | 'low' | 'medium' | 'high' } or { budget: <tokens, 0 for none> }",
    ]);
    expect(problemsOf(() => defineAgent({ name: 'both', instructions: 'b', thinking: { level: 'low', budget: 1 } } as never))).toHaveLength(1);
    expect(problemsOf(() => defineTool({ name: 'sched', description: 'd', behavior: 'BLOCKING', scheduling: 'silent', handler: () => 1 }))).toEqual([
      "tool \"sched\": scheduling is for NON_BLOCKING tools only (a BLOCKING tool's answer is awaited)",
    ]);
    expect(problemsOf(() => defineTool({ name: 'sched', description: 'd', behavior: 'NON_BLOCKING', scheduling: 'later' as never, handler: () => 1 }))).toEqual([
      'tool "sched": scheduling must be one of interrupt, whenIdle, silent',
    ]);
  });

  it('writes instructions per call, with the language as an instruction', async () => {
    const agent = defineAgent({ name: 'berlin', language: 'de-DE', instructions: (call) => `Anrufer ${call.direction}` });
    const text = await instructionsFor(agent, callDetails({ callSid: `CA${'0'.repeat(32)}`, from: '+4930123', to: '+4930999', direction: 'inbound' }, 'berlin'));
    expect(text).toBe('Anrufer inbound\n\nAlways speak German (Germany) unless the caller asks for another language.');
  });
});

describe('AgentDirectory', () => {
  const dental = defineAgent({ name: 'dental', instructions: 'd', phoneNumbers: ['+14155550111'] });
  const fallback = defineAgent({ name: 'front-desk', instructions: 'f' });

  it('picks the agent by the number called, else the default', () => {
    const directory = new AgentDirectory([dental, fallback], options);
    expect(directory.forNumber('+14155550111')?.agent.name).toBe('dental');
    expect(directory.forNumber('+14155550999')?.agent.name).toBe('front-desk');
    expect(new AgentDirectory([dental], options).forNumber('+14155550999')).toBeUndefined();
  });

  it('adds end_call always and transfer_call with a transfer number; a warm transfer asks the model for a summary', () => {
    expect(new AgentDirectory([dental], options).byAgentName('dental')!.tools.names).toEqual(['end_call']);
    const cold = new AgentDirectory([dental], { ...options, transferNumber: '+14155550100' }).byAgentName('dental')!.tools;
    expect(cold.names).toEqual(['end_call', 'transfer_call']);
    expect(cold.get('transfer_call')!.parameters.properties).toEqual({});
    const warm = new AgentDirectory([defineAgent({ name: 'dental', instructions: 'x', transferMode: 'warm' })], { ...options, transferNumber: '+14155550100' }).byAgentName('dental')!.tools;
    expect(warm.get('transfer_call')!.parameters).toMatchObject({ required: ['summary'], properties: { summary: { type: 'string' } } });
    const byService = new AgentDirectory([dental], { ...options, transferNumber: '+14155550100', transferMode: 'warm' }).byAgentName('dental')!.tools;
    expect(byService.get('transfer_call')!.parameters.required).toEqual(['summary']);
  });

  it("refuses a voice the model does not have, naming the agent, at start-up: Gemini's, and the local stand-in's (the same)", () => {
    const robot = defineAgent({ name: 'robot', instructions: 'r', voice: 'Robot' });
    for (const model of [gemini, createLocalModel()]) {
      expect(problemsOf(() => new AgentDirectory([robot, defineAgent({ name: 'puck', instructions: 'p', phoneNumbers: ['+14155550111'], voice: 'Puck' })], { ...options, model }))).toEqual([
        expect.stringMatching(/^agent "robot": voice "Robot" is not a Gemini Live voice; use one of Zephyr, Puck, /),
      ]);
    }
  });

  it("gives each agent its own model, else the model's default, in the settings of every conversation", async () => {
    const own = defineAgent({ name: 'own', instructions: 'o', model: 'gemini-own-live', phoneNumbers: ['+14155550111'] });
    const directory = new AgentDirectory([own, fallback], options);
    const call = callDetails({ callSid: `CA${'2'.repeat(32)}`, from: '+14155550123', to: '+14155550111', direction: 'inbound' }, 'own');
    expect(directory.byAgentName('own')!.modelName).toBe('gemini-own-live');
    expect(directory.byAgentName('front-desk')!.modelName).toBe('gemini-test-live');
    const settings = await directory.byAgentName('own')!.conversationSettings(call);
    expect(settings).toMatchObject({ agentName: 'own', model: 'gemini-own-live', voice: undefined, instructions: expect.stringMatching(/^o\n\n/) });
    expect(settings.tools.map((tool) => tool.name)).toEqual(['end_call']);
  });

  it("refuses at start-up a feature or tool behaviour the agent's model does not offer, naming the agent, the model and what to do", () => {
    const lookup = defineTool({ name: 'lookup', description: 'l', behavior: 'NON_BLOCKING', handler: () => 1 });
    const agents = [
      defineAgent({ name: 'moody', instructions: 'm', model: 'gemini-3.8-live', affectiveDialog: true, phoneNumbers: ['+14155550111'] }),
      defineAgent({ name: 'legacy', instructions: 'l', model: 'gemini-3.1-flash-live-preview', tools: [lookup] }),
    ];
    for (const model of [gemini, createLocalModel()]) {
      expect(problemsOf(() => new AgentDirectory(agents, { ...options, model }))).toEqual([
        expect.stringMatching(/^agent "moody": model gemini-3\.8-live \(Gemini API\) does not offer affective dialog: remove affectiveDialog, or use a model that offers it/),
        'agent "legacy": model gemini-3.1-flash-live-preview (Gemini API) runs tools synchronously only: declare tool "lookup" with behavior BLOCKING',
      ]);
    }
  });

  it('passes the features to every conversation, and makes the built-in tools NON_BLOCKING for a model that runs tools only asynchronously', async () => {
    const thinker = defineAgent({ name: 'thinker', instructions: 't', model: 'gemini-3.8-live-extended-thinking', thinking: { level: 'high' } });
    const directory = new AgentDirectory([thinker], { ...options, transferNumber: '+14155550100' });
    const call = callDetails({ callSid: `CA${'3'.repeat(32)}`, from: '+14155550123', to: '+14155550111', direction: 'inbound' }, 'thinker');
    const settings = await directory.byAgentName('thinker')!.conversationSettings(call);
    expect(settings.features).toEqual({ thinking: { level: 'high' } });
    expect(settings.tools.map((tool) => [tool.name, tool.behavior])).toEqual([
      ['end_call', 'NON_BLOCKING'],
      ['transfer_call', 'NON_BLOCKING'],
    ]);
  });

  it('reports two defaults, a shared number and HTTP tools without a secret together', () => {
    const http = defineAgent({ name: 'crm', instructions: 'c', phoneNumbers: ['+14155550111'], tools: [defineTool({ name: 'lookup', description: 'l', behavior: 'BLOCKING', url: 'https://crm.example.com/l' })] });
    const other = defineAgent({ name: 'other', instructions: 'o' });
    const problems = problemsOf(() => new AgentDirectory([dental, fallback, other, http], { ...options, toolWebhookSecret: undefined }));
    expect(problems.join('\n')).toMatch(/agents "front-desk" and "other" both have no phoneNumbers/);
    expect(problems.join('\n')).toMatch(/agent "crm": tools lookup are HTTP tools: set TOOL_WEBHOOK_SECRET/);
  });
});

describe('HTTP tool signatures', () => {
  it('verifies its own signature, and refuses a changed body, another key or an old timestamp', () => {
    const body = '{"tool":"x","args":{}}';
    const header = signToolRequest(SECRET, body, 1_764_504_000);
    expect(verifyToolRequestSignature(SECRET, body, header, { nowSeconds: 1_764_504_010 })).toBe(true);
    expect(verifyToolRequestSignature(SECRET, `${body} `, header, { nowSeconds: 1_764_504_010 })).toBe(false);
    expect(verifyToolRequestSignature(`${SECRET}x`, body, header, { nowSeconds: 1_764_504_010 })).toBe(false);
    expect(verifyToolRequestSignature(SECRET, body, header, { nowSeconds: 1_764_504_000 + 301 })).toBe(false);
    expect(verifyToolRequestSignature(SECRET, body, 'garbage')).toBe(false);
  });
});

describe('HttpToolClient', () => {
  it('posts the signed call and turns a non-JSON answer into a ToolError', async () => {
    let received: { body: string; signature: string | undefined } | undefined;
    let answer = '{"ok":1}';
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received = { body, signature: req.headers['phone-agent-signature'] as string };
        res.writeHead(200).end(answer);
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const tool = defineTool({ name: 'lookup', description: 'l', behavior: 'BLOCKING', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/l` });
      const client = new HttpToolClient({ secret: SECRET });
      const call = { ...callDetails({ callSid: `CA${'1'.repeat(32)}`, from: '+14155550123', to: '+14155550100', direction: 'inbound' }, 'dental'), finishAfterReply: () => false };
      const context: ToolContext = { call, signal: new AbortController().signal, log: createLogger({ level: 'silent' }) };
      expect(await client.run(tool, { q: 1 }, context)).toEqual({ ok: 1 });
      expect(verifyToolRequestSignature(SECRET, received!.body, received!.signature)).toBe(true);
      expect(JSON.parse(received!.body)).toEqual({ tool: 'lookup', args: { q: 1 }, call: { callSid: call.callSid, from: '+14155550123', to: '+14155550100', direction: 'inbound', agent: 'dental' } });
      answer = '<html>oops</html>';
      await expect(client.run(tool, {}, context)).rejects.toBeInstanceOf(ToolError);
    } finally {
      server.close();
    }
  });
});

