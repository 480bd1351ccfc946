import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startBridge, type Bridge } from '../support/bridge-harness.js';
import { INSPECTED_CALL_MODEL, placeInspectedCall } from '../support/inspected-call.js';

/**
 * The call inspector in a real browser (Debian's chromium, headless) against the real server after real calls
 * through the fake Twilio and the fake Live server: the list with a call in progress at the top, and a finished
 * call's page with its waveforms, transcript, barge-in, tool call, waits and cost. The screenshots it takes are
 * the README's (docs/images/, with UPDATE_SCREENSHOTS=1).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_KEY = 'admin-key-for-the-call-inspector-0123456789';
/** UPDATE_SCREENSHOTS=1 writes the screenshots where the README shows them; otherwise they go to a temp folder. */
const IMAGES = process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/images/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'call-inspector-'));

describe('the call inspector', () => {
  let bridge: Bridge;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    bridge = await startBridge({ env: { ADMIN_API_KEY: ADMIN_KEY, RECORD_CALLS: '1' }, gemini: INSPECTED_CALL_MODEL });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--no-first-run'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    mkdirSync(IMAGES, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await bridge?.stop();
  });

  it('lists calls with the one in progress at the top, and shows a call on one timeline', async () => {
    const { callSid } = await placeInspectedCall(bridge);
    // A second call stays up while the list is open: it shows live, and leaves the list when it ends.
    const { callSid: liveSid, twiml } = await bridge.ringWebhook({ From: '+14155550188', Caller: '+14155550188' });
    const live = await bridge.openStream(liveSid, twiml);
    await live.waitForAgentAudio({ timeoutMs: 5_000 });

    await page.goto(`${bridge.app.localUrl}/calls#key=${ADMIN_KEY}`);
    // The key left the address bar (and never went to the server in a URL).
    expect(new URL(page.url()).hash).toBe('');
    await page.locator(`#calls tr[data-call-sid="${callSid}"]`).waitFor({ timeout: 5_000 });
    await page.locator(`#live-calls tr[data-call-sid="${liveSid}"]`).waitFor({ timeout: 5_000 });
    const row = page.locator(`#calls tr[data-call-sid="${callSid}"]`);
    expect(await row.locator('td').allTextContents()).toEqual(expect.arrayContaining(['restaurant', 'inbound', '+1********23', 'caller-hung-up', '1']));
    await expect.poll(() => page.locator(`#live-calls tr[data-call-sid="${liveSid}"] td.saying`).textContent(), { timeout: 5_000 }).toMatch(/^agent: Thanks for calling/);
    await page.screenshot({ path: join(IMAGES, 'calls-list.png') });
    expect(statSync(join(IMAGES, 'calls-list.png')).size).toBeGreaterThan(10_000);

    await live.hangUp();
    await page.locator(`#live-calls tr[data-call-sid="${liveSid}"]`).waitFor({ state: 'detached', timeout: 5_000 });
    expect(await page.locator('#no-live').isVisible()).toBe(true);

    // The call's page: opened from the list, the key kept by the tab.
    await page.locator(`#calls tr[data-call-sid="${callSid}"] a`).click();
    await page.waitForFunction(() => (globalThis as unknown as { inspectorState?: { waveformDrawn?: boolean } }).inspectorState?.waveformDrawn === true, undefined, { timeout: 5_000 });
    expect(page.url()).toBe(`${bridge.app.localUrl}/calls/${callSid}`);
    // Both waveforms drawn: caller above the middle line, agent below.
    // Read in the page (a script, since the test's own types know no DOM): inked pixels above and below the middle.
    const inked = (await page.evaluate(`(() => {
      const canvas = document.getElementById('waveform');
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const inkedRows = (from, to) => {
        let count = 0;
        for (let y = from; y < to; y++) for (let x = 0; x < canvas.width; x++) if (data[(y * canvas.width + x) * 4 + 3] > 0 && data[(y * canvas.width + x) * 4 + 1] < 200) count++;
        return count;
      };
      return { caller: inkedRows(0, canvas.height / 2 - 2), agent: inkedRows(canvas.height / 2 + 2, canvas.height) };
    })()`)) as { caller: number; agent: number };
    expect(inked.caller).toBeGreaterThan(500);
    expect(inked.agent).toBeGreaterThan(500);
    // The transcript in time, the barge-in with what the caller had heard, the tool with its duration, the waits, the cost.
    expect(await page.locator('#transcript li.agent').first().textContent()).toMatch(/Agent: Thanks for calling/);
    expect(await page.locator('#transcript li.caller').count()).toBeGreaterThan(0);
    expect(await page.locator('#transcript li.barge').textContent()).toMatch(/Caller interrupted after hearing 1\.\d\d s of 6\.\d\d s: “Thanks for calling/);
    expect(await page.locator('#transcript li.tool').textContent()).toMatch(/find_booking\(\{"code":"\[redacted\]"\}\) → ok in \d+ ms/);
    expect(await page.locator('#tools tbody tr td').allTextContents()).toEqual(expect.arrayContaining(['find_booking', 'ok']));
    expect(await page.locator('#turns tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#transcript li.wait').first().textContent()).toMatch(/The caller waited \d+ ms for the answer/);
    expect(await page.locator('#figures dd').first().textContent()).toMatch(/^\$\d/);
    for (const kind of ['barge', 'tool', 'wait']) expect(await page.locator(`#lanes .mark.${kind}`).count()).toBeGreaterThan(0);

    // Playable, with a cursor that moves as it plays: a click on the timeline seeks there.
    await page.locator('#play').click();
    await page.waitForFunction(() => ((globalThis as unknown as { inspectorState?: { cursorMs?: number } }).inspectorState?.cursorMs ?? 0) > 300, undefined, { timeout: 5_000 });
    await page.locator('#play').click(); // pause
    const box = (await page.locator('#timeline').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + 20);
    await sleep(200);
    const { cursorMs, axisMs } = await page.evaluate(() => (globalThis as unknown as { inspectorState: { cursorMs: number; axisMs: number } }).inspectorState);
    expect(Math.abs(cursorMs - axisMs / 2)).toBeLessThan(axisMs * 0.03);
    expect(await page.locator('#transcript li.playing').count()).toBe(1);
    await page.screenshot({ path: join(IMAGES, 'call-page.png'), fullPage: true });
    expect(statSync(join(IMAGES, 'call-page.png')).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
    expect(bridge.logText()).not.toContain(ADMIN_KEY);
  }, 60_000);

  it('asks for its key, and says when the key is wrong', async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${bridge.app.localUrl}/calls`);
    await fresh.locator('#error').waitFor();
    expect(await fresh.locator('#error').textContent()).toMatch(/needs its key/);
    await fresh.close();
    const wrong = await browser.newPage();
    await wrong.goto(`${bridge.app.localUrl}/calls#key=not-the-key-not-the-key-00`);
    await expect.poll(() => wrong.locator('#error').textContent()).toMatch(/not the service's ADMIN_API_KEY/);
    await wrong.close();
  });
});
