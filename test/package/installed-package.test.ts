import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { FunctionDeclaration, Tool as GenaiTool } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGeminiLive, type FakeGeminiLive, type FakeSession } from '../fakes/gemini-live/server.js';
import { verifyToolRequestSignature } from '../../src/tools/http-tool.js';
import {
  defaultVoiceWebhookParams,
  FakeTwilioMediaStream,
  parseConnectStreamTwiml,
  postVoiceWebhook,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
} from '../fakes/twilio/index.js';

/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a fresh project outside the
 * repository, an agent written there against `gemini-phone-agent`, the `gemini-phone-agent` command started
 * with it, and calls taken through the real server, the real SDK and the local Live server.
 */

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const PUBLIC_URL = 'https://agent.example.test';
const GEMINI_KEY = 'installed-package-key';
const SECRET = 'tool-webhook-secret-0123456789abcdef';
const DENTAL_NUMBER = '+14155550111';
const PLUMBER_NUMBER = '+14155550122';

const AGENT_FILE = `
import { defineAgent, defineTool } from 'gemini-phone-agent';

export default defineAgent({
  name: 'dental',
  instructions: (call) => 'You answer calls for Bright Smile Dental. The caller is ' + (call.callerNumber === undefined ? 'unknown' : 'known') + '.',
  voice: 'Aoede',
  greeting: { inbound: 'Thank the caller for calling Bright Smile and ask how you can help.' },
  tools: [
    defineTool({
      name: 'next_free_slot',
      description: 'The next free appointment slot on a day.',
      behavior: 'BLOCKING',
      parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
      handler: async ({ day }, { call }) => ({ slot: day + ' 09:30', agent: call.agent }),
    }),
    defineTool({
      name: 'crm_lookup',
      description: 'Looks the caller up in the practice CRM.',
      behavior: 'BLOCKING',
      timeoutMs: 1500,
      parameters: { type: 'object', properties: { topic: { type: 'string' } } },
      url: process.env.CRM_URL,
    }),
  ],
});
`;

const TWO_AGENTS_FILE = `
import { defineAgent } from 'gemini-phone-agent';
export default [
  defineAgent({ name: 'dental', instructions: 'You are the dental receptionist.', voice: 'Aoede', phoneNumbers: ['${DENTAL_NUMBER}'] }),
  defineAgent({ name: 'plumber', instructions: 'You are the plumber on call.', voice: 'Puck', phoneNumbers: ['${PLUMBER_NUMBER}'] }),
];
`;

interface ToolRequest {
  body: string;
  signature: string | undefined;
}

let projectDir: string;
let packedFiles: string[];
let gemini: FakeGeminiLive;
let toolServer: Server;
let toolUrl: string;
const toolRequests: ToolRequest[] = [];
let toolMode: 'ok' | 'error' | 'hang' = 'ok';

beforeAll(async () => {
  projectDir = mkdtempSync(join(tmpdir(), 'installed-agent-'));
  // Build and pack exactly what would be published.
  await run('npm', ['pack', '--pack-destination', projectDir, '--silent'], { cwd: REPO, maxBuffer: 16 << 20 });
  const tarball = readdirSync(projectDir).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack made no tarball');
  packedFiles = (await run('tar', ['-tzf', join(projectDir, tarball)], { maxBuffer: 16 << 20 })).stdout.split('\n').filter((line) => line !== '');
  writeFileSync(join(projectDir, 'package.json'), JSON.stringify({ name: 'my-phone-agent', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `./${tarball}`], { cwd: projectDir, maxBuffer: 16 << 20 });
  writeFileSync(join(projectDir, 'agent.ts'), AGENT_FILE);
  writeFileSync(join(projectDir, 'two-agents.ts'), TWO_AGENTS_FILE);

  gemini = await startFakeGeminiLive({
    apiKey: GEMINI_KEY,
    // The model greets when cued, as the real one does when the bridge sends the greeting text.
    replies: ({ heardText }) => (heardText !== undefined && heardText.length > 0 ? { text: 'Hello, how can I help?' } : undefined),
  });
  toolServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      toolRequests.push({ body, signature: req.headers['phone-agent-signature'] as string | undefined });
      if (toolMode === 'hang') return; // never answers: the tool's timeout must end it
      if (toolMode === 'error') {
        res.writeHead(500).end('boom');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ patient: 'found', visits: 3 }));
    });
  });
  await new Promise<void>((done) => toolServer.listen(0, '127.0.0.1', done));
  toolUrl = `http://127.0.0.1:${(toolServer.address() as AddressInfo).port}/crm`;
}, 600_000);

afterAll(async () => {
  toolServer?.closeAllConnections();
  toolServer?.close();
  await gemini?.close();
  if (projectDir !== undefined) rmSync(projectDir, { recursive: true, force: true });
});

interface RunningService {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the installed `gemini-phone-agent` command in the user's project, with the agent file given. */
async function startInstalledService(agentFile: string): Promise<RunningService> {
  const child = spawn(join(projectDir, 'node_modules', '.bin', 'gemini-phone-agent'), [agentFile], {
    cwd: projectDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      HOST: '127.0.0.1',
      PUBLIC_URL,
      GEMINI_API_KEY: GEMINI_KEY,
      GOOGLE_GEMINI_BASE_URL: gemini.baseUrl,
      TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      TOOL_WEBHOOK_SECRET: SECRET,
      CRM_URL: toolUrl,
      BROWSER_PHONE: '0',
      DATA_DIR: join(projectDir, 'data'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the service did not start within 60 s:\n${output}`)), 60_000);
    const check = (): void => {
      const match = /"localUrl":"(http:\/\/[^"]+)"/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        done(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the service exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      // A failed test may leave a call up, which a drain would wait for: never leave the service behind.
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function call(service: RunningService, to: string): Promise<{ twilio: FakeTwilioMediaStream; session: FakeSession }> {
  const sessionIndex = gemini.sessions.length;
  const params = defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID, To: to });
  const response = await postVoiceWebhook({ serverUrl: service.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params });
  expect(response.status).toBe(200);
  const twiml = parseConnectStreamTwiml(response.body);
  const twilio = await FakeTwilioMediaStream.connect({
    serverUrl: `${service.url.replace('http://', 'ws://')}/media`,
    streamUrl: twiml.streamUrl,
    authToken: TEST_AUTH_TOKEN,
    accountSid: TEST_ACCOUNT_SID,
    callSid: params.CallSid as string,
    customParameters: twiml.parameters,
  });
  const session = await gemini.waitForSession(sessionIndex);
  return { twilio, session };
}

function declared(session: FakeSession): FunctionDeclaration[] {
  return ((session.setup?.tools ?? []) as GenaiTool[]).flatMap((tool) => tool.functionDeclarations ?? []);
}

function answerTo(session: FakeSession, id: string): Record<string, unknown> | undefined {
  return session.toolResponses.find((record) => record.response.id === id)?.response.response as Record<string, unknown> | undefined;
}

describe('the installed package', () => {
  it("ships the product and no fake of Google's Live server (that is test support)", () => {
    expect(packedFiles).toContain('package/dist/index.js');
    expect(packedFiles).toContain('package/dist/model/gemini/gemini-model.js');
    expect(packedFiles.filter((file) => /local-live|fakes|gemini-live|\/test\//.test(file))).toEqual([]);
  });

  it('runs an agent written outside the repository: its instructions, voice, greeting and both kinds of tool', async () => {
    const service = await startInstalledService('./agent.ts');
    try {
      const { twilio, session } = await call(service, '+14155550100');
      const setup = session.setup!;
      expect(JSON.stringify(setup.systemInstruction)).toContain('Bright Smile Dental');
      expect(JSON.stringify(setup.generationConfig?.speechConfig ?? setup)).toContain('Aoede');
      expect(declared(session).map((d) => d.name).sort()).toEqual(['crm_lookup', 'end_call', 'next_free_slot']);
      // The agent's greeting cue reached the model, and its answer reached the caller.
      await session.waitUntil((s) => s.turns.some((turn) => (turn.heardText ?? '').includes('Bright Smile')), 10_000);
      await twilio.waitForAgentAudio({ timeoutMs: 10_000 });

      // Both tools answer: the TypeScript handler in-process, the HTTP tool through a signed request.
      const [slotId, crmId] = session.sendToolCall([
        { name: 'next_free_slot', args: { day: 'monday' } },
        { name: 'crm_lookup', args: { topic: 'cleaning' } },
      ]);
      await session.waitUntil((s) => answerTo(s, slotId!) !== undefined && answerTo(s, crmId!) !== undefined, 10_000);
      expect(answerTo(session, slotId!)).toEqual({ output: { slot: 'monday 09:30', agent: 'dental' } });
      expect(answerTo(session, crmId!)).toEqual({ output: { patient: 'found', visits: 3 } });
      const request = toolRequests.at(-1)!;
      expect(verifyToolRequestSignature(SECRET, request.body, request.signature)).toBe(true);
      expect(verifyToolRequestSignature('another-secret-0123456789abcdef', request.body, request.signature)).toBe(false);
      const body = JSON.parse(request.body) as { tool: string; args: unknown; call: Record<string, unknown> };
      expect(body.tool).toBe('crm_lookup');
      expect(body.args).toEqual({ topic: 'cleaning' });
      expect(body.call).toMatchObject({ direction: 'inbound', agent: 'dental', to: '+14155550100' });

      // A tool server that fails, or never answers: the model hears an error and the call goes on.
      toolMode = 'error';
      const [failedId] = session.sendToolCall([{ name: 'crm_lookup', args: {} }]);
      await session.waitUntil((s) => answerTo(s, failedId!) !== undefined, 10_000);
      expect(answerTo(session, failedId!)).toHaveProperty('error');
      expect(String(answerTo(session, failedId!)!.error)).toMatch(/HTTP 500/);
      toolMode = 'hang';
      const [hungId] = session.sendToolCall([{ name: 'crm_lookup', args: {} }]);
      await session.waitUntil((s) => answerTo(s, hungId!) !== undefined, 10_000);
      expect(String(answerTo(session, hungId!)!.error)).toMatch(/did not finish within 1.5 seconds/);
      toolMode = 'ok';
      expect(session.isOpen).toBe(true);
      expect(twilio.isOpen).toBe(true);
      const heardBefore = twilio.receivedAudio.length;
      session.say({ text: 'Anything else?' });
      await twilio.waitFor((t) => t.receivedAudio.length > heardBefore, 10_000, 'agent audio after the failed tools');
      await twilio.hangUp();
    } finally {
      await service.stop();
    }
    expect(service.output()).not.toContain(SECRET);
  }, 120_000);

  it('runs two agents on two numbers: the number called picks the agent', async () => {
    const service = await startInstalledService('./two-agents.ts');
    try {
      const plumber = await call(service, PLUMBER_NUMBER);
      const dental = await call(service, DENTAL_NUMBER);
      expect(JSON.stringify(plumber.session.setup!.systemInstruction)).toContain('plumber on call');
      expect(JSON.stringify(plumber.session.setup)).toContain('Puck');
      expect(JSON.stringify(dental.session.setup!.systemInstruction)).toContain('dental receptionist');
      expect(JSON.stringify(dental.session.setup)).toContain('Aoede');
      // A number no agent answers, with no default agent: a polite refusal, no session.
      const sessionsBefore = gemini.sessions.length;
      const params = defaultVoiceWebhookParams({ AccountSid: TEST_ACCOUNT_SID, To: '+14155550199' });
      const refused = await postVoiceWebhook({ serverUrl: service.url, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params });
      expect(refused.status).toBe(200);
      expect(refused.body).toContain('<Say>');
      expect(refused.body).toContain('<Hangup/>');
      expect(gemini.sessions.length).toBe(sessionsBefore);
      await plumber.twilio.hangUp();
      await dental.twilio.hangUp();
    } finally {
      await service.stop();
    }
    expect(service.output()).toMatch(/"agent":"plumber"/);
  }, 120_000);
});
