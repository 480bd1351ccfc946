/**
 * The browser phone through the local fleet: two real instances (child processes) sharing a real Redis, behind a real
 * HAProxy with the committed deploy/haproxy/haproxy.cfg, and the page itself in Debian's headless chromium as the
 * client (a fresh tab per call, so every call goes through the page's whole path: key check, agent card, session,
 * media socket and events). The instances talk to the fake Gemini Live server.
 *
 * Chromium, not the page's protocol driven from Node: ten calls take about as many seconds, and only the page can
 * show what a person sees, including a refused call's reason.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHaproxyConfig } from '../../scripts/lib/haproxy-config.js';
import { FLEET_ACCESS_KEY_NAME } from '../../src/browser-phone/access-key.js';
import { pcm16WavHeader } from '../../src/recording/wav.js';
import { BROWSER_CREDENTIAL_REFUSED } from '../../src/telephony/media-stream-server.js';
import { FLEET_GREETING, startFleet, type Fleet } from '../support/fleet.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CALLS = 10;

interface PageStats {
  state: string;
  agent: string | undefined;
  agentSamplesPlayed: number;
  events: Array<{ type: string; [key: string]: unknown }>;
  closeCode: number | undefined;
  error: string | undefined;
}

let fleet: Fleet;
let browser: Browser;
let key: string;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  dir = mkdtempSync(join(tmpdir(), 'fleet-browser-phone-'));
  // A silent microphone: the calls are about routing, not about what the caller says.
  const silence = join(dir, 'silence.wav');
  writeFileSync(silence, Buffer.concat([pcm16WavHeader({ sampleRateHz: 48_000, channels: 1 }, 48_000 * 30), Buffer.alloc(48_000 * 30 * 2)]));
  // No BROWSER_PHONE_KEY: the instances agree on one key through Redis.
  fleet = await startFleet({ env: { BROWSER_PHONE: '1' } });
  const redis = createClient({ url: fleet.redis.url });
  await redis.connect();
  try {
    key = (await redis.get(`phone-agent:agreed:${FLEET_ACCESS_KEY_NAME}`)) ?? '';
  } finally {
    redis.destroy();
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${silence}`, '--autoplay-policy=no-user-gesture-required', '--disable-background-networking', '--no-first-run'],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}, 30_000);

const stats = (page: Page): Promise<PageStats> => page.evaluate(() => (globalThis as unknown as { phoneStats: PageStats }).phoneStats);

async function waitFor(page: Page, what: string, predicate: (s: PageStats) => boolean, timeoutMs = 10_000): Promise<PageStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await stats(page);
    if (predicate(current)) return current;
    if (Date.now() > deadline) throw new Error(`page: ${what} did not happen within ${timeoutMs} ms; ${JSON.stringify({ ...current, events: current.events.map((e) => e.type) })}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Opens the page through `proxyUrl` in a fresh tab and places one call. A page load makes the same requests every
 * time, so round-robin would give every session to one instance; `otherTraffic` requests in between (as other
 * callers' would) move the session to the next one.
 */
async function openAndCall(proxyUrl: string, otherTraffic = 0): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${proxyUrl}/phone#key=${key}`);
  await waitFor(page, 'load the agent', (s) => s.agent !== undefined || s.error !== undefined);
  for (let i = 0; i < otherTraffic; i++) await fetch(`${proxyUrl}/healthz`);
  await page.click('#call');
  return page;
}

describe('the browser phone through the local fleet', () => {
  it('shares one key: every instance accepts it, and through HAProxy the key check never fails', async () => {
    expect(key).toMatch(/^[\w-]{32}$/);
    for (const instance of fleet.instances) {
      expect((await fetch(`${instance.url}/phone/key`, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(204);
      // The key is printed by local-fleet.sh, never by an instance.
      expect(instance.output()).not.toContain(key);
    }
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) statuses.add((await fetch(`${fleet.proxy.url}/phone/key`, { headers: { Authorization: `Bearer ${key}` } })).status);
    expect([...statuses]).toEqual([204]);
  });

  it(`completes ${CALLS} of ${CALLS} calls: greeting heard, events followed, hung up, on both instances`, async () => {
    let completed = 0;
    for (let call = 0; call < CALLS; call++) {
      const page = await openAndCall(fleet.proxy.url, call % 2);
      try {
        await waitFor(page, 'hear the greeting', (s) => s.state === 'in-call' && s.agentSamplesPlayed > 4_000);
        // The call's events came from the instance holding the call (the transcript of its greeting).
        const heard = await waitFor(page, 'show the greeting', (s) => s.events.some((e) => e.type === 'transcript' && e.speaker === 'agent'));
        expect(heard.events[0]!.type).toBe('started');
        expect(await page.textContent('#transcript')).toContain(FLEET_GREETING);
        await page.click('#hangup');
        const ended = await waitFor(page, 'end the call', (s) => s.events.some((e) => e.type === 'ended'));
        expect(ended.events.find((e) => e.type === 'ended')).toMatchObject({ reason: 'caller-hung-up' });
        expect(ended.error).toBeUndefined();
        completed++;
      } finally {
        await page.close();
      }
    }
    expect(completed).toBe(CALLS);
    // The sessions were spread over the fleet, and each call ran where its session was issued.
    for (const instance of fleet.instances) {
      const issued = instance.logs('browser phone session issued').map((line) => line['callSid']);
      const ended = instance.logs('call ended').filter((line) => issued.includes(line['callSid'])).length;
      expect(issued.length, instance.id).toBeGreaterThan(0);
      expect(ended, instance.id).toBe(issued.length);
    }
  }, 120_000);

  it('shows a refused call with its reason: a balancer that sends the media stream to the wrong instance', async () => {
    // Each instance's media path crossed over to the other instance: the stream always reaches an instance that
    // did not issue its session (round-robin would do the same only by chance).
    const crossed = renderHaproxyConfig(['agent-1', 'agent-2']).replace(
      /^ {2}use-server (agent-[12]) if .*$/gm,
      (_line, id: string) => `  use-server ${id === 'agent-1' ? 'agent-2' : 'agent-1'} if { path_beg /media/${id} }`,
    );
    const proxy = await fleet.startProxy(crossed);
    const page = await openAndCall(proxy.url);
    try {
      const outcome = await waitFor(page, 'connect or be refused', (s) => s.state === 'ended' || s.agentSamplesPlayed > 0);
      expect(outcome.state, 'a stream sent to the other instance').toBe('ended');
      expect(outcome.closeCode).toBe(1008);
      expect((await page.textContent('#error')) ?? '').toBe(`The service refused the call: ${BROWSER_CREDENTIAL_REFUSED}`);
    } finally {
      await page.close();
    }
  }, 120_000);
});
