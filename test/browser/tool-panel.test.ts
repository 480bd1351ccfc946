import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agents/agent.js';
import { loadConfig } from '../../src/settings/resolve-config.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { verifyToolRequestSignature } from '../../src/tools/http-tool.js';
import { defineTool, ToolError } from '../../src/tools/tool.js';
import { capturingLogger } from '../support/log-capture.js';

/**
 * The browser phone's tool panel in Debian's headless chromium, against the real server running a dental agent
 * (not the restaurant example): the page names the agent and takes its hints from it, and its forms run a handler
 * tool, an HTTP tool (a signed request to a local backend) and show a ToolError, each with its duration.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SECRET = 'tool-webhook-secret-0123456789abcdef';

interface PageStats {
  agent: string | undefined;
  toolRuns: Array<{ tool: string; outcome: string; durationMs: number; output?: unknown; error?: { message: string } }>;
  error: string | undefined;
}

describe('the tool panel in headless chromium', () => {
  let dir: string;
  let app: RunningService;
  let browser: Browser;
  let page: Page;
  let crm: Server;
  const crmRequests: Array<{ body: string; signature: string | undefined }> = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    crm = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        crmRequests.push({ body, signature: req.headers['phone-agent-signature'] as string | undefined });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ patient: 'found', lastVisit: '2026-11-02' }));
      });
    });
    await new Promise<void>((done) => crm.listen(0, '127.0.0.1', done));
    const dental = defineAgent({
      name: 'bright-smile',
      instructions: 'You answer calls for Bright Smile Dental.',
      greeting: 'Thank the caller for calling Bright Smile and ask how you can help.',
      tools: [
        defineTool({
          name: 'next_free_slot',
          description: 'The next free appointment slot on a day.',
          behavior: 'BLOCKING',
          parameters: { type: 'object', properties: { day: { type: 'string', enum: ['monday', 'sunday'] }, patients: { type: 'integer', minimum: 1 } }, required: ['day'] },
          handler: ({ day, patients }) => {
            if (day === 'sunday') throw new ToolError('The practice is closed on Sundays.');
            return { day, slot: '09:30', patients: patients ?? 1 };
          },
        }),
        defineTool({
          name: 'crm_lookup',
          description: 'Looks the caller up in the practice CRM.',
          behavior: 'BLOCKING',
          parameters: { type: 'object', properties: { topic: { type: 'string', description: 'what the caller asks about' } } },
          url: `http://127.0.0.1:${(crm.address() as AddressInfo).port}/crm`,
        }),
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'tool-panel-browser-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), BROWSER_PHONE: '1', TOOL_WEBHOOK_SECRET: SECRET });
    app = await startService({ config, log: capturingLogger().log, agents: [dental] });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    crm?.closeAllConnections();
    crm?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const stats = (): Promise<PageStats> => page.evaluate(() => (globalThis as unknown as { phoneStats: PageStats }).phoneStats);
  const runs = async (count: number): Promise<PageStats['toolRuns']> => {
    await expect.poll(async () => (await stats()).toolRuns.length, { timeout: 10_000 }).toBe(count);
    return (await stats()).toolRuns;
  };

  it('names the running agent and takes its hints from it, never from the example', async () => {
    await page.goto(app.browserPhoneUrl!.replace('localhost', '127.0.0.1'));
    await expect.poll(() => page.textContent('h1')).toBe('Browser phone · bright-smile');
    expect(await page.title()).toBe('bright-smile · Browser phone');
    expect(await page.textContent('#mode')).toContain('as bright-smile');
    expect(await page.textContent('#greeting')).toContain('Thank the caller for calling Bright Smile and ask how you can help.');
    expect(await page.textContent('#keypad-hint')).toContain('“The caller typed on the keypad: 1 2 3”');
    const text = await page.textContent('body');
    for (const restaurant of ['K7Q2M9', '5 7 7 2 6 9', 'booking', 'restaurant']) expect(text).not.toContain(restaurant);
    expect(await page.$$eval('form.tool', (forms) => forms.map((form) => form.getAttribute('data-tool')))).toEqual(['next_free_slot', 'crm_lookup']);
    expect(await page.isEnabled('#call')).toBe(true);
  });

  it('runs a handler tool from its form, with the arguments its schema asks for, and shows the answer and its duration', async () => {
    const form = page.locator('form[data-tool="next_free_slot"]');
    await form.locator('select[name="day"]').selectOption('monday');
    await form.locator('input[name="patients"]').fill('2');
    await form.locator('button[type="submit"]').click();
    const [run] = await runs(1);
    expect(run).toMatchObject({ tool: 'next_free_slot', outcome: 'ok', output: { day: 'monday', slot: '09:30', patients: 2 } });
    await expect.poll(() => form.locator('output').textContent()).toMatch(new RegExp(`^Answered in ${run!.durationMs} ms:\\{\\s+"day": "monday"`));
  });

  it('shows a ToolError as the answer the model would hear', async () => {
    const form = page.locator('form[data-tool="next_free_slot"]');
    await form.locator('select[name="day"]').selectOption('sunday');
    await form.locator('button[type="submit"]').click();
    const run = (await runs(2))[1]!;
    expect(run).toMatchObject({ outcome: 'tool-error', error: { message: 'The practice is closed on Sundays.' } });
    await expect.poll(() => form.locator('output').textContent()).toMatch(new RegExp(`^ToolError after ${run.durationMs} ms; the model hears:\\{\\s+"status": "error",\\s+"retryable": false,\\s+"message": "The practice is closed on Sundays\\.",\\s+"hint": `));
    expect(await form.locator('output').getAttribute('class')).toBe('tool-result tool-error');
  });

  it('runs an HTTP tool through its signed request', async () => {
    const form = page.locator('form[data-tool="crm_lookup"]');
    await form.locator('input[name="topic"]').fill('a cleaning');
    await form.locator('button[type="submit"]').click();
    const run = (await runs(3))[2]!;
    expect(run).toMatchObject({ tool: 'crm_lookup', outcome: 'ok', output: { patient: 'found', lastVisit: '2026-11-02' } });
    await expect.poll(() => form.locator('output').textContent()).toContain('"patient": "found"');
    const request = crmRequests.at(-1)!;
    expect(verifyToolRequestSignature(SECRET, request.body, request.signature)).toBe(true);
    expect(JSON.parse(request.body)).toMatchObject({ tool: 'crm_lookup', args: { topic: 'a cleaning' }, call: { agent: 'bright-smile', direction: 'inbound' } });
    expect((await stats()).error).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });
});
