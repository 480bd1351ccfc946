import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCRIPT_CUES, type ConformanceReport } from '../../scripts/lib/live-conformance.js';
import { testLiveCommand } from '../../scripts/test-live.js';
import { startFakeGeminiLive, type FakeGeminiLive, type FakeGeminiLiveOptions, type FakeReply, type ReplyContext } from '../fakes/gemini-live/server.js';
import { captureOutput } from '../support/run-script.js';

/**
 * `npm run test:live` against the local Live server, so the command that users run against the real service with
 * their keys is known to work: every agent's setup, the scripted conversation with the recorded calls, the table and
 * its JSON. The local server replies to the script as a model would.
 */
const KEY = 'test-live-key';

function model({ source, heardText, turnIndex }: ReplyContext): FakeReply | undefined {
  if (heardText === SCRIPT_CUES.greeting) return { text: 'Blue Door, how can I help?' };
  if (heardText === SCRIPT_CUES.longTalk) return { text: 'The Blue Door opened in 1962 on Market Street. '.repeat(6) };
  if (heardText === SCRIPT_CUES.resumed) return { text: 'You asked about your booking.' };
  if (source === 'audio' && turnIndex === 1) {
    return {
      text: '',
      heard: 'Hi, can you check my booking? The code is K 7 Q 2 M 9.',
      toolCalls: [{ name: 'find_booking', args: { code: 'K7Q2M9' } }],
      afterToolResponses: () => ({ text: 'Found it: Saturday at 7:30.' }),
    };
  }
  return source === 'audio' ? { text: 'Of course, what time instead?', heard: 'Wait, sorry, actually I need to change the time.' } : undefined;
}

describe('npm run test:live', () => {
  let gemini: FakeGeminiLive | undefined;
  let dir: string;
  const saved = process.env.GOOGLE_GEMINI_BASE_URL;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'test-live-'));
  });
  afterEach(async () => {
    await gemini?.close();
    gemini = undefined;
    rmSync(dir, { recursive: true, force: true });
    process.env.GOOGLE_GEMINI_BASE_URL = saved;
  });

  async function run(options: FakeGeminiLiveOptions, agents: object[]) {
    gemini = await startFakeGeminiLive({ apiKey: KEY, replies: model, msPerChar: 25, ...options });
    process.env.GOOGLE_GEMINI_BASE_URL = gemini.baseUrl;
    const agentFile = join(dir, 'agents.json');
    writeFileSync(agentFile, JSON.stringify(agents));
    const out = join(dir, 'report.json');
    const { output, all } = captureOutput();
    const code = await testLiveCommand(['--agent-file', agentFile, '--out', out, '--audio-speed', '4'], { GEMINI_API_KEY: KEY, PORT: '0', DATA_DIR: dir }, output);
    return { code, text: all(), report: existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as ConformanceReport) : undefined };
  }

  it('runs the script with the recorded calls and finds every behaviour the code relies on; prints the table and writes it as JSON', async () => {
    const { code, text, report } = await run({ connectionLifetime: { goAwayAfterMs: 4_000, timeLeftSeconds: 120 } }, [
      { name: 'front-desk', instructions: 'You answer calls.' },
      { name: 'warm', instructions: 'w', model: 'gemini-2.5-flash-native-audio-preview-12-2025', affectiveDialog: true, phoneNumbers: ['+14155550111'] },
    ]);
    expect(report?.behaviours.map((b) => [b.id, b.result])).toEqual([
      ['setup of agent "front-desk"', 'as relied on'],
      ['setup of agent "warm"', 'as relied on'],
      ['spoken answer to a text cue', 'as relied on'],
      ['audible answer', 'as relied on'],
      ['output transcription', 'as relied on'],
      ['input transcription', 'as relied on'],
      ['tool call', 'as relied on'],
      ['tool answer taken', 'as relied on'],
      ['barge-in', 'as relied on'],
      ['usage reported', 'as relied on'],
      ['how turns end', 'as relied on'],
      ['resumption handle', 'as relied on'],
      ['resumed conversation', 'as relied on'],
      ['goAway', 'as relied on'],
    ]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ model: 'gemini-3.8-live', backend: 'gemini-api', versions: { sdk: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.version } });
    expect(report?.transcripts.caller.join('')).toContain('K 7 Q 2 M 9');
    expect(report?.timeline.some((entry) => entry.event === 'interrupted')).toBe(true);
    expect(JSON.stringify(report)).not.toContain(KEY);
    expect(text).toMatch(/^✓ barge-in +interrupted \d+ ms after the caller started$/m);
    expect(text).toMatch(/Written to .*report\.json: attach it to a bug report/);
    // The resumed connection continued the same conversation on the server.
    const sessions = gemini!.sessions.filter((session) => session.setup?.tools !== undefined && JSON.stringify(session.setup.tools).includes('find_booking'));
    expect(sessions.at(-1)?.resumedFrom?.sessionIndex).toBe(sessions.at(-2)?.index);
  }, 60_000);

  it('reports what the service did differently and exits non-zero: a refused agent setup, a quiet answer, no usage', async () => {
    const { code, text, report } = await run({ models: ['gemini-3.8-live'], quirks: { nearSilentAnswers: [0], usage: 'none' } }, [
      { name: 'front-desk', instructions: 'You answer calls.' },
      { name: 'thinker', instructions: 't', model: 'gemini-3.8-live-extended-thinking', thinking: { level: 'high' }, phoneNumbers: ['+14155550111'] },
    ]);
    const results = Object.fromEntries(report!.behaviours.map((b) => [b.id, b]));
    expect(results['setup of agent "thinker"']).toMatchObject({ result: 'different', observed: expect.stringMatching(/\(code 1008\).*To fix:/) });
    expect(results['audible answer']).toMatchObject({ result: 'different', observed: expect.stringMatching(/^-\d+ dBFS RMS$/) });
    expect(results['usage reported']?.result).toBe('not seen');
    expect(code).toBe(1);
    expect(text).toMatch(/✖ 2 behaviour\(s\) differ from what the code relies on/);
  }, 60_000);

  it('refuses to run without a Gemini key: it is meant for the real service', async () => {
    const { output, all } = captureOutput();
    expect(await testLiveCommand([], { PORT: '0' }, output)).toBe(1);
    expect(all()).toMatch(/talks to the real Gemini Live service: set GEMINI_API_KEY/);
  });
});
