import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { openBrowserPhoneCall } from '../support/browser-phone-call.js';

/**
 * The package as a user gets it, following the README: `npm pack`, installed from the tarball into a fresh
 * `npm init -y` project (CommonJS) outside the repository, agents written there against `gemini-phone-agent` (the
 * README's own, TypeScript with `export default`, `.cts` with `require`, an ES module folder), the
 * `gemini-phone-agent` command started with each, and calls taken through the real server, the real SDK and the
 * local Live server.
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

/** A CommonJS agent in TypeScript: `require` and `module.exports`. */
const COMMONJS_AGENT_FILE = `
const { defineAgent } = require('gemini-phone-agent');
const name: string = 'front-desk';
module.exports = defineAgent({ name, instructions: 'You are the front desk of the CommonJS clinic.' });
`;

/** An ES module project inside the CommonJS one (its own package.json), with a plain .js agent. */
const ES_MODULE_AGENT_FILE = `
import { defineAgent } from 'gemini-phone-agent';
export default defineAgent({ name: 'esm-desk', instructions: 'You are the front desk of the ES module clinic.' });
`;

/** The README's agent example, as a reader copies it into agents/dental.ts. */
function readmeAgent(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const match = /```ts\n(\/\/ agents\/dental\.ts\n[\s\S]*?)```/.exec(readme);
  if (match === null) throw new Error('README.md has no agents/dental.ts example');
  return match[1]!;
}

const TWO_AGENTS_FILE = `
import { defineAgent } from 'gemini-phone-agent';
export default [
  defineAgent({ name: 'dental', instructions: 'You are the dental receptionist.', voice: 'Aoede', phoneNumbers: ['${DENTAL_NUMBER}'] }),
  defineAgent({ name: 'plumber', instructions: 'You are the plumber on call.', voice: 'Puck', phoneNumbers: ['${PLUMBER_NUMBER}'] }),
];
`;

/**
 * A service of the user's own, configured from code with typed settings and nothing from the environment, as
 * docs/configuration.md shows; plain JavaScript, so it runs with `node` in any project.
 */
const SERVER_FILE = (settings: Record<string, unknown>): string => `
import { loadAgents, startPhoneAgent } from 'gemini-phone-agent';

const agents = await loadAgents('./agent.ts');
const service = await startPhoneAgent({ agents, env: {}, banner: false, ...${JSON.stringify(settings)} });
console.log(JSON.stringify({ localUrl: service.url, activeCalls: service.activeCalls }));
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
/** What `npm install` printed on stderr: its warnings. */
let installWarnings: string;

beforeAll(async () => {
  projectDir = mkdtempSync(join(tmpdir(), 'installed-agent-'));
  // Build and pack exactly what would be published.
  await run('npm', ['pack', '--pack-destination', projectDir, '--silent'], { cwd: REPO, maxBuffer: 16 << 20 });
  const tarball = readdirSync(projectDir).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack made no tarball');
  packedFiles = (await run('tar', ['-tzf', join(projectDir, tarball)], { maxBuffer: 16 << 20 })).stdout.split('\n').filter((line) => line !== '');
  // The README's commands: `npm init -y && npm pkg set allowScripts.protobufjs=false --json && npm install …`.
  await run('npm', ['init', '-y'], { cwd: projectDir });
  await run('npm', ['pkg', 'set', 'allowScripts.protobufjs=false', '--json'], { cwd: projectDir });
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${tarball}`], { cwd: projectDir, maxBuffer: 16 << 20 });
  installWarnings = installed.stderr;
  writeFileSync(join(projectDir, 'agent.ts'), AGENT_FILE);
  writeFileSync(join(projectDir, 'two-agents.ts'), TWO_AGENTS_FILE);
  writeFileSync(join(projectDir, 'front-desk.cts'), COMMONJS_AGENT_FILE);
  mkdirSync(join(projectDir, 'agents'));
  writeFileSync(join(projectDir, 'agents', 'dental.ts'), readmeAgent());
  mkdirSync(join(projectDir, 'esm'));
  writeFileSync(join(projectDir, 'esm', 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(projectDir, 'esm', 'agent.js'), ES_MODULE_AGENT_FILE);

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

/**
 * Starts the installed `gemini-phone-agent` command in the user's project, with the agent file given; `env` adds
 * settings, or removes them (undefined). With `script`, the user's own service script runs instead (`node
 * <script>`), configured from code: its environment holds only what the agent file itself reads.
 */
async function startInstalledService(agentFile: string, env: Record<string, string | undefined> = {}, script?: string): Promise<RunningService> {
  const [command, args] = script === undefined ? [join(projectDir, 'node_modules', '.bin', 'gemini-phone-agent'), [agentFile]] : [process.execPath, [script]];
  const child = spawn(command, args, {
    cwd: projectDir,
    env: withoutUnset(script !== undefined ? { PATH: process.env.PATH, HOME: process.env.HOME, CRM_URL: toolUrl } : {
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
      ...env,
    }),
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

function withoutUnset(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
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
  it("ships what runs: the built code, the browser phone page and the docs; no fake of Google's Live server (test support), no example whose dependencies it lacks", () => {
    const tops = new Set(packedFiles.map((file) => file.split('/').slice(1, 2).join('/')));
    expect([...tops].sort()).toEqual(['README.md', 'dist', 'docs', 'package.json', 'public']);
    expect(packedFiles).toContain('package/dist/index.js');
    expect(packedFiles).toContain('package/dist/main.js');
    expect(packedFiles).toContain('package/dist/model/gemini/gemini-model.js');
    expect(packedFiles.filter((file) => /local-live|fakes|gemini-live|\/test\//.test(file))).toEqual([]);
  });

  it('installs into an npm init -y project with no warning a user must ignore', () => {
    const warnings = installWarnings.split('\n').filter((line) => /npm warn/i.test(line));
    // On a Node the package does not support (engines), npm rightly says so; on a supported one, nothing.
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const supported = major > 22 || (major === 22 && minor >= 12);
    expect(warnings).toEqual(supported ? [] : warnings.filter((line) => /EBADENGINE/.test(line)));
    expect(installWarnings).not.toMatch(/install-scripts|allowScripts/);
    expect(JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8'))).toMatchObject({ type: 'commonjs' });
  });

  it("runs the README's agent in local mode: the browser phone names it, and its tool runs from the page's panel", async () => {
    // HOST unset, as a reader runs it: every interface, and the start log says so.
    const service = await startInstalledService('./agents/dental.ts', { HOST: undefined, GEMINI_API_KEY: undefined, PUBLIC_URL: undefined, TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined, BROWSER_PHONE: '1' });
    try {
      expect(service.output()).toMatch(/"listening":"0\.0\.0\.0:(\d+)","localUrl":"http:\/\/127\.0\.0\.1:\1"/);
      await expect.poll(() => /#key=([\w-]{24,})/.exec(service.output())?.[1], { timeout: 5_000 }).toBeDefined();
      const key = /#key=([\w-]{24,})/.exec(service.output())![1]!;
      const auth = { Authorization: `Bearer ${key}` };
      const page = await fetch(`${service.url}/phone`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('id="tool-forms"');
      const card = (await (await fetch(`${service.url}/phone/agent`, { headers: auth })).json()) as { name: string; model: string; tools: Array<{ name: string }> };
      expect(card).toMatchObject({ name: 'dental', model: 'local', tools: [{ name: 'next_free_slot' }] });
      const runTool = async (day: string) =>
        (await (await fetch(`${service.url}/phone/tools/next_free_slot`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ args: { day } }) })).json()) as Record<string, unknown>;
      expect(await runTool('monday')).toMatchObject({ outcome: 'ok', output: { day: 'monday', slot: '09:30' } });
      expect(await runTool('wednesday')).toMatchObject({ outcome: 'tool-error', error: { message: 'Nothing is free on wednesday.' } });

      // A call from the page: the local model answers as the agent.
      const { session, stream: browserCall } = await openBrowserPhoneCall(service.url, key);
      expect(session.agent).toBe('dental');
      await browserCall.waitForAgentAudio({ timeoutMs: 15_000 });
      await browserCall.hangUp();
    } finally {
      await service.stop();
    }
    expect(service.output()).toMatch(/"msg":"call ended"/);
  }, 120_000);

  it('runs a CommonJS agent (.cts, require and module.exports) and a .js agent of an ES module folder', async () => {
    for (const [file, says] of [['./front-desk.cts', 'CommonJS clinic'], ['./esm/agent.js', 'ES module clinic']] as const) {
      const service = await startInstalledService(file);
      try {
        const { twilio, session } = await call(service, '+14155550100');
        expect(JSON.stringify(session.setup!.systemInstruction), file).toContain(says);
        await twilio.hangUp();
      } finally {
        await service.stop();
      }
    }
  }, 120_000);

  it('gemini-phone-agent doctor checks the setup with the installed command: one line per check, a Gemini session per agent', async () => {
    const sessions = gemini.sessions.length;
    const doctor = await run(join(projectDir, 'node_modules', '.bin', 'gemini-phone-agent'), ['doctor', 'two-agents.ts'], {
      cwd: projectDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', GEMINI_API_KEY: GEMINI_KEY, GOOGLE_GEMINI_BASE_URL: gemini.baseUrl, DATA_DIR: join(projectDir, 'data') },
    });
    expect(doctor.stdout.split('\n').filter((line) => /^[✓✗–] /.test(line)).map((line) => line.split(':')[0])).toEqual([
      '✓ configuration',
      '✓ agents',
      '✓ Gemini API key',
      '✓ Gemini Live for agent "dental"',
      '✓ Gemini Live for agent "plumber"',
      '– Twilio and PUBLIC_URL',
    ]);
    expect(gemini.sessions.length - sessions).toBe(2);
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
      expect(answerTo(session, failedId!)!.error).toMatchObject({ status: 'error', retryable: true, message: expect.stringMatching(/HTTP 500/) });
      toolMode = 'hang';
      const [hungId] = session.sendToolCall([{ name: 'crm_lookup', args: {} }]);
      await session.waitUntil((s) => answerTo(s, hungId!) !== undefined, 10_000);
      expect(answerTo(session, hungId!)!.error).toMatchObject({ status: 'timeout', message: expect.stringMatching(/did not finish within 1.5 seconds/) });
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
    // The call history needs nothing installed beyond the package where Node has SQLite built in (22.13 and newer).
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    if (major > 22 || (major === 22 && minor >= 13)) {
      expect(existsSync(join(projectDir, 'data', 'history.sqlite'))).toBe(true);
      expect(service.output()).not.toMatch(/could not (write the call to|delete old calls from) the history|ExperimentalWarning/);
    }
  }, 120_000);

  it('runs a service configured from code with typed settings, the environment left out', async () => {
    writeFileSync(
      join(projectDir, 'server.mjs'),
      SERVER_FILE({
        port: 0,
        host: '127.0.0.1',
        publicUrl: PUBLIC_URL,
        gemini: { apiKey: GEMINI_KEY, baseUrl: gemini.baseUrl },
        twilio: { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN },
        tools: { webhookSecret: SECRET },
        browserPhone: { enabled: false },
        stores: { dataDir: join(projectDir, 'code-data') },
        logging: { level: 'info' },
      }),
    );
    const service = await startInstalledService('./agent.ts', {}, './server.mjs');
    try {
      const { twilio, session } = await call(service, '+14155550100');
      expect(JSON.stringify(session.setup!.systemInstruction)).toContain('Bright Smile Dental');
      await twilio.waitForAgentAudio({ timeoutMs: 10_000 });
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
