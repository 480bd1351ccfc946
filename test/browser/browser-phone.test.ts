import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestaurantAgent } from '../../examples/restaurant/agent.js';
import { loadConfig } from '../../src/settings/resolve-config.js';
import { mulawDecodeSample } from '../../src/audio/mulaw.js';
import { localGreeting } from '../../src/local-agent/local-agent.js';
import { createLogger } from '../../src/observability/logger.js';
import { pcm16WavHeader } from '../../src/recording/wav.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { SincResampler } from '../../public/browser-phone/phone-dsp.js';
import { loadSpeechFixture, type SpeechFixtureName } from '../fakes/twilio/fixtures.js';
import { waitUntil } from '../support/wait.js';

/**
 * The browser phone in a real browser: Debian's chromium, headless, with a WAV file as its microphone, against
 * the real server in local mode (no Gemini key, no Twilio): page → /media (Twilio protocol) → PhoneCall → the
 * local stand-in model, and back.
 *
 * The microphone plays: silence while the agent greets, a question, a short pause, then a second utterance
 * that talks over the agent's reply (barge-in), then silence.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WAV_RATE_HZ = 48_000;
const GREETING_SILENCE_MS = 3_500;
const PAUSE_BEFORE_BARGE_IN_MS = 2_000;

interface PageStats {
  state: string;
  framesSent: number;
  mediaFramesReceived: number;
  marksReceived: number;
  marksEchoedPlayed: number;
  marksEchoedByClear: number;
  clearsReceived: number;
  clearsHonoured: number;
  samplesDiscardedByClear: number;
  agentSamplesPlayed: number;
  agentPeak: number;
  queuedSamples: number;
  events: Array<{ type: string; [key: string]: unknown }>;
  error: string | undefined;
}

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

/** Speech fixture (8 kHz mu-law) → 48 kHz float, the rate of the fake microphone's WAV. */
function fixtureAt48k(name: SpeechFixtureName): Float32Array {
  const mulaw = loadSpeechFixture(name);
  const samples = Float32Array.from(mulaw, (code) => mulawDecodeSample(code) / 32768);
  const resampler = new SincResampler(8000, WAV_RATE_HZ);
  // Flush the resampler's look-ahead with trailing silence so the clip's end is not cut.
  const body = resampler.process(samples);
  const tail = resampler.process(new Float32Array(resampler.halfWidth + 8));
  const out = new Float32Array(body.length + tail.length);
  out.set(body);
  out.set(tail, body.length);
  return out;
}

function writeMicrophoneWav(path: string): { speechStartsMs: number[]; speechMs: number[] } {
  const silence = (ms: number) => new Float32Array((ms * WAV_RATE_HZ) / 1000);
  const question = fixtureAt48k('booking-question');
  const bargeIn = fixtureAt48k('barge-in');
  const parts = [silence(GREETING_SILENCE_MS), question, silence(PAUSE_BEFORE_BARGE_IN_MS), bargeIn, silence(8_000)];
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const pcm = Buffer.alloc(total * 2);
  let offset = 0;
  for (const part of parts) {
    for (const value of part) {
      pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(value * 32768))), offset);
      offset += 2;
    }
  }
  writeFileSync(path, Buffer.concat([pcm16WavHeader({ sampleRateHz: WAV_RATE_HZ, channels: 1 }, total), pcm]));
  const questionMs = (question.length / WAV_RATE_HZ) * 1000;
  return { speechStartsMs: [GREETING_SILENCE_MS, GREETING_SILENCE_MS + questionMs + PAUSE_BEFORE_BARGE_IN_MS], speechMs: [questionMs, (bargeIn.length / WAV_RATE_HZ) * 1000] };
}

describe('browser phone in headless chromium (local mode)', () => {
  let dir: string;
  let app: RunningService;
  let browser: Browser;
  let page: Page;
  const logs: LogLine[] = [];
  let logText = '';

  beforeAll(async () => {
    // No skipping: CI installs chromium before npm test (.ci/run); without it this must fail, loudly.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    dir = mkdtempSync(join(tmpdir(), 'browser-phone-'));
    const wav = join(dir, 'microphone.wav');
    writeMicrophoneWav(wav);

    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'debug', BROWSER_PHONE: '1' });
    expect(config.localModel).toBe(true);
    expect(config.telephony.enabled).toBe(false);
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logText += chunk.toString();
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    app = await startService({ config, log: createLogger({ level: 'debug', destination }), agents: [createRestaurantAgent({ dataDir: config.stores.dataDir })] });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}%noloop`,
        '--autoplay-policy=no-user-gesture-required',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage();
    page.on('pageerror', (error) => logs.push({ msg: `page error: ${error.message}` }));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const stats = (): Promise<PageStats> => page.evaluate(() => (globalThis as unknown as { phoneStats: PageStats }).phoneStats);
  const waitForStats = async (what: string, predicate: (s: PageStats) => boolean, timeoutMs = 20_000): Promise<PageStats> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await stats();
      if (predicate(current)) return current;
      if (Date.now() > deadline) throw new Error(`page: ${what} did not happen within ${timeoutMs} ms; stats ${JSON.stringify({ ...current, events: current.events.map((e) => e.type) })}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const waitForLog = async (predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs.find(predicate);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; last: ${logs.slice(-5).map((l) => l.msg).join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('talks to the local agent: speech reaches the model, the reply plays, barge-in clears it, keys look up a booking', async () => {
    const url = app.browserPhoneUrl;
    expect(url).toMatch(/^http:\/\/localhost:\d+\/phone#key=[\w-]{24,}$/);
    // Chromium treats localhost as a secure context, as a developer's browser would.
    await page.goto(url!.replace('localhost', '127.0.0.1'));
    await page.click('#call');
    await waitForStats('connect', (s) => s.state === 'in-call', 15_000);

    const { journals } = app.localModel!;
    await waitUntil('a conversation', () => journals.length === 1, 10_000);
    const session = journals[0]!;

    // 1. The model side heard the question: one caller turn of about its length, at speech level, over silence.
    const heardTurn = () => session.callerTurns.find((turn) => turn.kind === 'speech');
    await waitUntil('a spoken caller turn', () => heardTurn() !== undefined, 25_000);
    const playedBeforeReply = (await stats()).agentSamplesPlayed; // the greeting, long over by now
    const heard = heardTurn() as Extract<ReturnType<typeof heardTurn>, { kind: 'speech' }>;
    const heardMs = heard.endMs - heard.startMs;
    const questionMs = loadSpeechFixture('booking-question').length / 8;
    expect(heardMs).toBeGreaterThan(questionMs - 1_200); // the clip's own 300 ms of silence, VAD start and end
    expect(heardMs).toBeLessThan(questionMs + 800);
    // The speech's level, and that of the microphone's silence the model heard before it.
    expect(heard.levelDbfs).toBeGreaterThan(-35);
    expect(heard.quietLevelDbfs).toBeLessThan(-50);
    expect(heard.levelDbfs - heard.quietLevelDbfs).toBeGreaterThan(20);

    // 2. The page received the echo and canned reply and played it; marks came back as played.
    // At least half a second of it (8 kHz samples) before the caller talks over it.
    const played = await waitForStats('play the reply', (s) => s.agentSamplesPlayed > playedBeforeReply + 4_000 && s.marksEchoedPlayed > 0);
    expect(played.mediaFramesReceived).toBeGreaterThan(50);
    expect(played.agentPeak).toBeGreaterThan(0.05);

    // 3. The second utterance talks over the reply: interrupted at the model, `clear` honoured by the page, which
    //    dropped buffered audio and echoed the pending marks (so the service counts only what was heard).
    await waitUntil('the reply interrupted', () => session.interruptions >= 1, 20_000);
    const cleared = await waitForStats('honour a clear', (s) => s.clearsHonoured >= 1 && s.clearsReceived >= 1);
    expect(cleared.samplesDiscardedByClear).toBeGreaterThan(0);
    expect(cleared.marksEchoedByClear).toBeGreaterThan(0);
    const interrupted = await waitForLog((line) => line.msg === 'caller interrupted the agent');
    expect(interrupted.heardMs as number).toBeLessThan(interrupted.sentMs as number);

    // 4. Keys: the page sends dtmf, the local agent calls the agent's code tool (find_booking) and reads its answer out.
    for (const digit of [...'577269#']) await page.click(`#keys button[data-digit="${digit}"]`);
    const booked = await waitForStats('show the booking lookup', (s) => s.events.some((e) => e.type === 'toolResult' && e.name === 'find_booking' && e.ok === true), 20_000);
    expect(JSON.stringify(booked.events.find((e) => e.type === 'toolResult'))).toContain('Dana Whitfield');
    await waitForStats('speak the booking', (s) => s.events.some((e) => e.type === 'transcript' && e.speaker === 'agent' && String(e.text).includes('Whitfield')), 15_000);

    // 5. The side channel showed the call as it went: transcript both ways, a latency, the barge-in.
    const types = new Set((await stats()).events.map((e) => e.type));
    for (const type of ['started', 'transcript', 'latency', 'interrupted', 'toolCall', 'turnComplete']) expect(types, type).toContain(type);
    await expect.poll(() => page.textContent('#transcript')).toContain(localGreeting('restaurant').slice(0, 50));
    expect(await page.textContent('#transcript')).toContain('you spoke for');
    expect(await page.textContent('#latency')).toMatch(/Response: \d+ ms/);

    // 6. Hanging up ends the call as Twilio's `stop` does.
    await page.click('#hangup');
    const ended = await waitForLog((line) => line.msg === 'call ended');
    expect(ended.endReason).toBe('caller-hung-up');
    expect((await stats()).error).toBeUndefined();
    // Nothing stays "buffered" after the call, and the summary reads as words, with the first audio's time.
    await expect.poll(async () => (await stats()).queuedSamples).toBe(0);
    expect(await page.textContent('#playout')).toContain('Buffered0 ms');
    await expect.poll(() => page.textContent('#transcript')).toMatch(/Call ended: you hung up\. Agent audio heard: [\d.]+ s; first agent audio after \d+ ms\./);

    // 7. A second call starts its counters afresh: nothing of the first call carries over.
    const first = await stats();
    await page.click('#call');
    await waitForStats('connect again', (s) => s.state === 'in-call', 15_000);
    const second = await stats();
    expect(second.framesSent).toBeLessThan(first.framesSent);
    expect(second.clearsHonoured).toBe(0);
    expect(second.events.some((e) => e.type === 'ended')).toBe(false);
    await page.click('#hangup');
    await waitForLog(() => logs.filter((line) => line.msg === 'call ended').length === 2);
    expect(logs.filter((line) => line.msg.startsWith('page error'))).toEqual([]);
    // The access key never reaches the log.
    expect(logText).not.toContain(url!.split('#key=')[1]);
  }, 120_000);

  it('says at once when the access key is wrong (a URL from an earlier start), before any call or microphone', async () => {
    const stale = await browser.newPage();
    try {
      await stale.goto(`${app.localUrl}/phone#key=${'k'.repeat(43)}`);
      await expect.poll(() => stale.isVisible('#error')).toBe(true);
      expect(await stale.textContent('#error')).toContain('not the server');
      expect(await stale.isDisabled('#call')).toBe(true);
      const pageStats = await stale.evaluate(() => (globalThis as unknown as { phoneStats: PageStats }).phoneStats);
      expect(pageStats.state).toBe('idle');
    } finally {
      await stale.close();
    }
  });
});
