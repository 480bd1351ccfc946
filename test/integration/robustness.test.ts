import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MALFORMED_MESSAGES } from '../../src/telephony/media-stream-connection.js';
import { loadSpeechFixture } from '../fakes/twilio/index.js';
import { startBridge, type Bridge } from '../support/bridge-harness.js';

const GREETING = 'Hello, Blue Door reservations.';
const ANSWER = 'Let me check that.';

describe('bad input and broken connections', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  it('drops malformed Twilio messages on one call while another call keeps working, and hangs up a peer that only sends garbage', async () => {
    bridge = await startBridge({ gemini: { replies: ({ source }) => ({ text: source === 'text' ? GREETING : ANSWER }) } });
    const a = await bridge.placeCall();
    const b = await bridge.placeCall();
    const sessionA = await bridge.gemini.waitForSession(0);
    const sessionB = await bridge.gemini.waitForSession(1);

    const garbage = [
      '{"event":',
      '[]',
      JSON.stringify({ event: 'media', streamSid: a.twilio.streamSid, sequenceNumber: 9, media: { payload: '////' } }),
      JSON.stringify({ event: 'media', streamSid: b.twilio.streamSid, sequenceNumber: '9', media: { track: 'inbound', chunk: '1', timestamp: '1', payload: '////' } }),
      JSON.stringify({ event: 'mark', streamSid: a.twilio.streamSid, sequenceNumber: '9' }),
      JSON.stringify({ event: 'surprise', streamSid: a.twilio.streamSid }),
      new Uint8Array([1, 2, 3]),
    ];
    for (const message of garbage) a.twilio.sendRaw(message);

    // Call A is still up: its caller is heard and answered after the garbage.
    await a.twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await sessionA.waitUntil((s) => s.turns.some((turn) => turn.source === 'audio'), 5_000);
    expect(a.twilio.isOpen).toBe(true);

    // Call B never noticed: its greeting, its own turn and the answer go through.
    await sessionB.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
    await b.twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await sessionB.waitUntil((s) => s.modelTurns.filter((turn) => turn.outcome === 'completed').length === 2, 10_000);
    await b.twilio.waitForPlayoutIdle(10_000);
    expect(b.twilio.heardAudio.length).toBeGreaterThan(8 * 1_000);

    // Enough garbage and A is hung up, its Gemini session closed; B stays up.
    for (let i = 0; i < MAX_MALFORMED_MESSAGES; i++) a.twilio.sendRaw('not json');
    expect((await a.twilio.closed).code).toBe(1007);
    expect((await sessionA.closed).initiatedBy).toBe('client');
    expect(b.twilio.isOpen).toBe(true);
    expect(sessionB.isOpen).toBe(true);
    expect(bridge.app.calls.size).toBe(1);
    await b.twilio.hangUp();
    expect(b.twilio.violations).toEqual([]);
  });

  it('times out a Gemini setup that never completes, closes that socket, and ends the call', async () => {
    bridge = await startBridge({ gemini: { setupDelayMs: 'never' } });
    const { callSid, twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);
    const startedAt = Date.now();
    const closed = await session.closed; // our setup timeout (2 s in tests) cut the socket: nothing leaks
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_800);
    expect(closed.initiatedBy).not.toBe('server');
    await twilio.closed;
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary.endReason).toBe('model-setup-failed');
  });

  it('ends the call when Gemini refuses the setup (a bad API key), without leaking the key into logs', async () => {
    bridge = await startBridge({ env: { GEMINI_API_KEY: 'AIza-wrong-key' } });
    const { callSid, twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(0);
    expect((await session.closed).code).toBe(1007);
    await twilio.closed;
    const failure = await bridge.waitForLog((line) => line.msg === 'could not open a model session' && line.callSid === callSid);
    expect(JSON.stringify(failure)).toContain('1007');
    expect(bridge.logText()).not.toContain('AIza-wrong-key');
  });
});
