import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilioMediaStream, loadSpeechFixture, TEST_ACCOUNT_SID } from '../fakes/twilio/index.js';
import { startBridge, type Bridge } from '../support/bridge-harness.js';
import { openBrowserPhoneCall } from '../support/browser-phone-call.js';
import { DuplicateKeyError, parseStrictJson } from '../support/strict-json.js';

/**
 * Every line the service logs is JSON with each key once: a duplicate key (the `call ended` line once carried
 * `"agent"` twice) breaks log pipelines that keep the first value. Calls of every kind run through the real server,
 * and every line they log is read by a parser that refuses duplicate keys.
 */
describe('the log', () => {
  let bridge: Bridge;

  beforeAll(async () => {
    bridge = await startBridge({
      env: { BROWSER_PHONE: '1', INSTANCE_ID: 'log-test' },
      gemini: { replies: ({ source }) => ({ text: source === 'text' ? 'Thanks for calling the Blue Door.' : 'Let me look that up.' }) },
    });
  });
  afterAll(async () => bridge?.stop());

  it('the strict parser finds what JSON.parse lets through', () => {
    const line = '{"level":30,"callSid":"CA1","agent":"restaurant","durationMs":12,"agent":"restaurant","msg":"call ended"}';
    expect((JSON.parse(line) as { agent: string }).agent).toBe('restaurant');
    expect(() => parseStrictJson(line)).toThrow(new DuplicateKeyError('duplicate key "agent" in the top-level object'));
    expect(() => parseStrictJson('{"a":{"b":[{"c":1,"c":2}]}}')).toThrow('duplicate key "c" in .a.b[0]');
    expect(parseStrictJson('{"a":"x\\"y","b":[1,{"a":2}],"c":{"a":3}}')).toEqual({ a: 'x"y', b: [1, { a: 2 }], c: { a: 3 } });
  });

  it('has no line with a duplicate key after a phone call, a browser call, tool runs and refusals', async () => {
    // A Twilio call: greeting, the caller speaks, a tool call, hang-up.
    const { twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);
    await twilio.waitForAgentAudio({ timeoutMs: 10_000 });
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    const [toolCallId] = session.sendToolCall([{ name: 'find_booking', args: { code: 'K7Q2M9' } }]);
    await session.waitUntil((s) => s.toolResponses.some((r) => r.response.id === toolCallId), 10_000);
    await twilio.hangUp();

    // A browser phone call, and a tool run from its panel.
    const key = bridge.app.browserPhoneUrl!.split('#key=')[1]!;
    const auth = { Authorization: `Bearer ${key}` };
    const { session: browserSession, stream: page } = await openBrowserPhoneCall(bridge.app.localUrl, key);
    await page.waitForAgentAudio({ timeoutMs: 10_000 });
    await page.hangUp();
    const run = await fetch(`${bridge.app.localUrl}/phone/tools/find_booking`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"args":{"code":"K7Q2M9"}}' });
    expect(run.status).toBe(200);

    // Refusals: an unsigned webhook, a made-up browser credential.
    expect((await fetch(`${bridge.app.localUrl}/voice`, { method: 'POST', body: `AccountSid=${TEST_ACCOUNT_SID}` })).status).toBe(403);
    const refused = await FakeTwilioMediaStream.connect({ serverUrl: `${bridge.app.localUrl.replace('http://', 'ws://')}/media/log-test?browserPhone=made-up`, streamUrl: 'x', signature: null, authToken: '', callSid: `CA${'1'.repeat(32)}`, start: 'skip' });
    await refused.closed;

    await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === browserSession.callSid, 10_000);
    const lines = bridge.logText().split('\n').filter((line) => line.trim() !== '');
    const problems = lines.flatMap((line) => {
      try {
        parseStrictJson(line);
        return [];
      } catch (error) {
        return [`${(error as Error).message}: ${line}`];
      }
    });
    expect(problems).toEqual([]);
    // What was read covers each kind of line, both calls' summaries among them.
    const messages = new Set(lines.map((line) => (JSON.parse(line) as { msg: string }).msg));
    for (const msg of ['call ended', 'tool call finished', 'browser phone session issued']) expect(messages, msg).toContain(msg);
    expect(lines.filter((line) => line.includes('"msg":"call ended"'))).toHaveLength(2);
  }, 60_000);
});
