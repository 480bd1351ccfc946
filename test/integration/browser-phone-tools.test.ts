import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agents/agent.js';
import type { AgentCard, ToolRun } from '../../src/browser-phone/tool-panel.js';
import { TOOL_RUNS_PER_MINUTE } from '../../src/browser-phone/tool-panel.js';
import { loadConfig } from '../../src/settings/resolve-config.js';
import { DEFAULT_TOOL_TIMEOUT_MS } from '../../src/settings/setting-table.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { verifyToolRequestSignature, type HttpToolRequest } from '../../src/tools/http-tool.js';
import { defineTool, ToolError } from '../../src/tools/tool.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * The browser phone's tool panel through the real server: the running agent as the page gets it, and its tools run
 * for real (a handler in this process, an HTTP tool through a signed request to a local backend), with the outcome
 * the model would get and how long it took, behind the page's key.
 */
const SECRET = 'tool-webhook-secret-0123456789abcdef';
const SLOW_TIMEOUT_MS = 300;

let dir: string;
let app: RunningService;
let key: string;
let crm: Server;
const crmRequests: Array<{ body: string; signature: string | undefined }> = [];
let slowAborted: unknown;
const captured = capturingLogger();

beforeAll(async () => {
  crm = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      crmRequests.push({ body, signature: req.headers['phone-agent-signature'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ patient: 'found', visits: 3 }));
    });
  });
  await new Promise<void>((done) => crm.listen(0, '127.0.0.1', done));
  const crmUrl = `http://127.0.0.1:${(crm.address() as AddressInfo).port}/crm`;

  const agent = defineAgent({
    name: 'dental',
    instructions: 'You answer calls for Bright Smile Dental.',
    greeting: 'Thank the caller for calling Bright Smile.',
    cues: { keypadDigits: 'Keyed in: {digits}' },
    tools: [
      defineTool({
        name: 'next_free_slot',
        description: 'The next free slot on a day.',
        behavior: 'BLOCKING',
        parameters: { type: 'object', properties: { day: { type: 'string', enum: ['monday', 'sunday'] } }, required: ['day'] },
        handler: ({ day }, { call }) => {
          if (day === 'sunday') throw new ToolError('We are closed on Sundays.');
          return { day, slot: '09:30', callSid: call.callSid, direction: call.direction, agent: call.agent };
        },
      }),
      defineTool({ name: 'broken', description: 'Always fails.', behavior: 'BLOCKING', handler: () => JSON.parse('{') as unknown }),
      defineTool({
        name: 'slow',
        description: 'Never answers.',
        behavior: 'NON_BLOCKING',
        timeoutMs: SLOW_TIMEOUT_MS,
        handler: (_args, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve((slowAborted = signal.reason)))),
      }),
      defineTool({ name: 'crm_lookup', description: 'Looks the caller up.', behavior: 'BLOCKING', parameters: { type: 'object', properties: { topic: { type: 'string' } } }, url: crmUrl }),
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'tool-panel-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), BROWSER_PHONE: '1', TOOL_WEBHOOK_SECRET: SECRET, INSTANCE_ID: 'panel-1' });
  app = await startService({ config, log: captured.log, agents: [agent] });
  key = app.browserPhoneUrl!.split('#key=')[1]!;
});

afterAll(async () => {
  await app?.stop();
  crm?.closeAllConnections();
  crm?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const run = async (tool: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; run: ToolRun }> => {
  const response = await fetch(`${app.localUrl}/phone/tools/${tool}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, run: (await response.json()) as ToolRun };
};

describe('the tool panel', () => {
  it('describes the running agent: its name, greeting, keypad cue, and its own tools with their schemas', async () => {
    expect((await fetch(`${app.localUrl}/phone/agent`)).status).toBe(401);
    const response = await fetch(`${app.localUrl}/phone/agent`, { headers: { Authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    const card = (await response.json()) as AgentCard;
    expect(card).toMatchObject({ name: 'dental', model: 'local', greeting: 'Thank the caller for calling Bright Smile.', keypadCue: 'Keyed in: {digits}' });
    // The built-in end_call acts on a call: not in the panel.
    expect(card.tools.map((tool) => [tool.name, tool.kind, tool.timeoutMs])).toEqual([
      ['next_free_slot', 'handler', DEFAULT_TOOL_TIMEOUT_MS],
      ['broken', 'handler', DEFAULT_TOOL_TIMEOUT_MS],
      ['slow', 'handler', SLOW_TIMEOUT_MS],
      ['crm_lookup', 'http', DEFAULT_TOOL_TIMEOUT_MS],
    ]);
    expect(card.tools[0]!.parameters).toEqual({ type: 'object', properties: { day: { type: 'string', enum: ['monday', 'sunday'] } }, required: ['day'] });
  });

  it('runs a handler with a call context and shows its answer, a ToolError, a failure, bad arguments and a timeout', async () => {
    const ok = await run('next_free_slot', { args: { day: 'monday' } });
    expect(ok.status).toBe(200);
    expect(ok.run).toMatchObject({ tool: 'next_free_slot', outcome: 'ok', output: { day: 'monday', slot: '09:30', direction: 'inbound', agent: 'dental' } });
    expect((ok.run.output as { callSid: string }).callSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(ok.run.durationMs).toBeGreaterThanOrEqual(0);

    expect((await run('next_free_slot', { args: { day: 'sunday' } })).run).toMatchObject({ outcome: 'tool-error', error: { status: 'error', retryable: false, message: 'We are closed on Sundays.' } });
    const invalid = (await run('next_free_slot', { args: { day: 'someday' } })).run;
    expect(invalid.outcome).toBe('invalid-arguments');
    expect(invalid.error).toMatchObject({ status: 'invalid_argument', message: expect.stringMatching(/^Invalid arguments for next_free_slot: .*day/) });
    const broken = (await run('broken', {})).run;
    expect(broken).toMatchObject({ outcome: 'failed', error: { message: expect.stringMatching(/failed because of an internal error/) } });
    expect(broken.failure).toMatch(/^SyntaxError: /);

    const slow = (await run('slow', { args: {} })).run;
    expect(slow.outcome).toBe('timeout');
    // Timers count in whole milliseconds of the event loop's clock: the measured time may fall short by a fraction.
    expect(slow.durationMs).toBeGreaterThan(SLOW_TIMEOUT_MS - 1);
    expect(slow.error).toMatchObject({ status: 'timeout', retryable: true, message: expect.stringMatching(/did not finish within 0.3 seconds/) });
    expect(slowAborted).toMatchObject({ why: 'timeout' });
    // Each run is logged like a call's tool call, marked as the panel's.
    expect(captured.lines.filter((line) => line.toolPanel === true && line.tool === 'next_free_slot').map((line) => line.outcome)).toEqual(['ok', 'tool-error', 'invalid-arguments']);
  });

  it('runs an HTTP tool through a request signed with TOOL_WEBHOOK_SECRET', async () => {
    const result = (await run('crm_lookup', { args: { topic: 'cleaning' } })).run;
    expect(result).toMatchObject({ outcome: 'ok', output: { patient: 'found', visits: 3 } });
    const request = crmRequests.at(-1)!;
    expect(verifyToolRequestSignature(SECRET, request.body, request.signature)).toBe(true);
    const body = JSON.parse(request.body) as HttpToolRequest;
    expect(body).toMatchObject({ tool: 'crm_lookup', args: { topic: 'cleaning' }, call: { direction: 'inbound', agent: 'dental' } });
    expect(body.call.callSid).toMatch(/^CA[0-9a-f]{32}$/);
  });

  it('wants the key, a tool of the agent and JSON arguments', async () => {
    expect((await run('next_free_slot', { args: { day: 'monday' } }, { Authorization: 'Bearer wrong-key-of-a-plausible-length' })).status).toBe(401);
    expect((await run('end_call', { args: {} })).status).toBe(404);
    expect((await run('no_such_tool', { args: {} })).status).toBe(404);
    expect((await run('next_free_slot', '{"args":')).status).toBe(400);
    expect((await run('next_free_slot', { args: ['monday'] })).status).toBe(400);
    expect((await run('next_free_slot', { args: { day: 'x'.repeat(20_000) } })).status).toBe(413);
    expect(captured.text()).not.toContain(key);
  });

  it(`runs at most ${TOOL_RUNS_PER_MINUTE} tools a minute`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < TOOL_RUNS_PER_MINUTE; i++) statuses.push((await run('next_free_slot', { args: { day: 'monday' } })).status);
    const response = await fetch(`${app.localUrl}/phone/tools/next_free_slot`, { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: '{"args":{"day":"monday"}}' });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    // The earlier tests' runs count too: the limit was reached within this test's runs.
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
  });
});
