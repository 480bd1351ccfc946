import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestaurantAgent } from '../../../examples/restaurant/agent.js';
import { SpeechDetector } from '../../../src/audio/speech-detector.js';
import type { CallRecord } from '../../../src/history/call-record.js';
import type { CallSummary } from '../../../src/observability/call-events.js';
import type { CallPage } from '../../../src/history/history-store.js';
import type { Waveform } from '../../../src/history/waveform.js';
import { startBridge, type Bridge } from '../../support/bridge-harness.js';
import { BOOKED, INSPECTED_CALL_MODEL, INSPECTED_CALLER, LONG_GREETING, placeInspectedCall, SHORT_ANSWER } from '../../support/inspected-call.js';

const ADMIN_KEY = 'admin-key-for-the-call-history-0123456789';
const FRAME_MS = 20;

async function api<T>(bridge: Bridge, path: string, key: string | null = ADMIN_KEY): Promise<{ status: number; body: T }> {
  const response = await fetch(`${bridge.app.localUrl}${path}`, { headers: key === null ? {} : { Authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as T };
}

/** Where the fixture's speech ends: after its last voiced 20 ms frame, as the call's own detector judges frames. */
function speechEndOffsetMs(mulaw: Uint8Array): number {
  const detector = new SpeechDetector();
  let lastVoiced = -1;
  for (let frame = 0; frame * 160 < mulaw.length; frame++) if (detector.isVoiced(mulaw.subarray(frame * 160, frame * 160 + 160))) lastVoiced = frame;
  return lastVoiced * FRAME_MS;
}

describe('the call history API', () => {
  let bridge: Bridge;
  /** What the agent's onCallEnded hook was given. */
  const endedSummaries: CallSummary[] = [];

  beforeAll(async () => {
    bridge = await startBridge({
      env: { ADMIN_API_KEY: ADMIN_KEY, RECORD_CALLS: '1' },
      gemini: INSPECTED_CALL_MODEL,
      agents: (dataDir) => {
        const restaurant = createRestaurantAgent({ dataDir });
        const onCallEnded: typeof restaurant.onCallEnded = (summary, call) => {
          endedSummaries.push(summary);
          return restaurant.onCallEnded?.(summary, call);
        };
        return [{ ...restaurant, onCallEnded }];
      },
    });
  });
  afterAll(async () => bridge?.stop());

  it('keeps a call with a barge-in and a tool: transcript, tool, barge-in, latencies, cost (the same in onCallEnded and the log) and recording', async () => {
    const { callSid, twilio, speech, playback } = await placeInspectedCall(bridge);

    let listed: CallPage | undefined;
    await expect.poll(async () => (listed = (await api<CallPage>(bridge, '/api/calls')).body).calls.length, { timeout: 5_000 }).toBe(1);
    expect(listed!.calls[0]).toMatchObject({ callSid, agent: 'restaurant', direction: 'inbound', channel: 'phone', endReason: 'caller-hung-up', interruptions: 1, toolCalls: 1, recorded: true, from: '+1********23' });
    expect(listed!.calls[0]!.costUsd).toBeGreaterThan(0);

    const { status, body: record } = await api<CallRecord>(bridge, `/api/calls/${callSid}`);
    expect(status).toBe(200);
    // Both sides' words, in order and in time.
    const agentLines = record.transcript.filter((line) => line.speaker === 'agent').map((line) => line.text);
    expect(agentLines.at(-1)).toBe(BOOKED);
    expect(agentLines).toContain(SHORT_ANSWER);
    expect(record.transcript.some((line) => line.speaker === 'caller')).toBe(true);
    expect(record.transcript.map((line) => line.atMs)).toEqual([...record.transcript.map((line) => line.atMs)].sort((a, b) => a - b));
    // The tool: its masked arguments (the code is `sensitive`), its answer and how long it took.
    expect(record.tools).toEqual([expect.objectContaining({ name: 'find_booking', args: { code: '[redacted]' }, outcome: 'ok', durationMs: expect.any(Number) })]);
    expect(record.tools[0]!.result).toMatchObject({ output: { found: true } });
    // The barge-in: what the caller had heard of the greeting, and how long the agent talked over them.
    expect(record.bargeIns).toHaveLength(1);
    const bargeIn = record.bargeIns[0]!;
    expect(bargeIn.heardMs).toBeGreaterThan(1_000);
    expect(bargeIn.heardMs).toBeLessThan(bargeIn.sentMs);
    // 1.6 s heard of the greeting's 6.5 s: its first words.
    expect(bargeIn.heardText.length).toBeGreaterThan(10);
    expect(LONG_GREETING.startsWith(bargeIn.heardText)).toBe(true);
    expect(bargeIn.heardText.length).toBeLessThan(LONG_GREETING.length / 2);
    expect(bargeIn.clearMs).toBeGreaterThanOrEqual(0);
    expect(bargeIn.clearMs).toBeLessThan(1_500);
    // Cost: the fake reports usage beside each turnComplete; the model and the phone leg are priced.
    expect(record.summary.tokens).toMatchObject({ source: 'reported' });
    expect(record.summary.tokens.output.audio).toBeGreaterThan(0);
    expect(record.summary.cost).toMatchObject({ currency: 'USD', estimated: false, priceModel: 'gemini-3.8-live', telephony: 0.0129 });
    expect(record.summary.cost.model).toBeGreaterThan(0);
    // The same tokens and cost in the agent's onCallEnded and the log's summary line.
    await expect.poll(() => endedSummaries.length).toBe(1);
    expect(endedSummaries[0]).toEqual(record.summary);
    const logged = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(logged).toMatchObject({ tokens: record.summary.tokens, cost: record.summary.cost });
    expect(record.from).toBe('+1********23');
    expect(JSON.stringify(record)).not.toContain(INSPECTED_CALLER);
    expect(record.tools[0]!.args).not.toHaveProperty('code', 'K7Q2M9');

    // The latency the caller heard for the answer, against the fake Twilio's own clock: from the end of their
    // speech to the first answer audio it played.
    const stoppedAt = playback.firstFrameAtMs! + speechEndOffsetMs(speech);
    const firstAnswerAudio = twilio.heardTimeline.find((chunk) => chunk.atMs > stoppedAt)!;
    const answer = record.turns.find((turn) => turn.turn === 2)!;
    expect(answer.heardMs).toBeDefined();
    expect(Math.abs(answer.heardMs! - (firstAnswerAudio.atMs - stoppedAt))).toBeLessThanOrEqual(80);
    expect(answer.modelMs).toBeLessThanOrEqual(answer.heardMs!);
    expect(record.latency.heardP50Ms).toBeDefined();

    // The recording, drawn from peaks: the caller's channel loud where they spoke, the agent's where it spoke.
    expect(record.recording?.wav).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}/${callSid}\\.wav$`));
    // The WAV is written after the call, like the record: wait for it.
    await expect.poll(async () => (await api(bridge, `/api/calls/${callSid}/waveform?points=1`)).status, { timeout: 5_000 }).toBe(200);
    const { body: waveform } = await api<Waveform>(bridge, `/api/calls/${callSid}/waveform?points=500`);
    expect(waveform.caller).toHaveLength(500);
    expect(Math.max(...waveform.caller)).toBeGreaterThan(0.05);
    expect(Math.max(...waveform.agent)).toBeGreaterThan(0.05);
    expect(waveform.durationMs).toBeGreaterThan(5_000);
    const audio = await fetch(`${bridge.app.localUrl}/api/calls/${callSid}/audio`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
    expect([audio.status, audio.headers.get('content-type')]).toEqual([200, 'audio/wav']);
    expect((await audio.arrayBuffer()).byteLength).toBeGreaterThan(44);
  });

  it('wants the key on every route: missing or wrong is 401', async () => {
    for (const path of ['/api/calls', '/api/calls/live', `/api/calls/CA${'0'.repeat(32)}`]) {
      expect((await api(bridge, path, null)).status).toBe(401);
      expect((await api(bridge, path, 'wrong-key-wrong-key-wrong-key')).status).toBe(401);
    }
    expect((await api<{ error: string }>(bridge, '/api/calls?limit=0&direction=sideways&colour=red')).body.error).toBe(
      'limit: a whole number from 1 to 200; direction: one of inbound, outbound; colour: not a filter (from, to, agent, endReason, direction, channel, limit, cursor)',
    );
    expect(bridge.logText()).not.toContain(ADMIN_KEY);
  });
});

describe('without ADMIN_API_KEY', () => {
  it('has no history API and no inspector (404)', async () => {
    const bridge = await startBridge();
    try {
      for (const path of ['/api/calls', '/calls', `/calls/CA${'0'.repeat(32)}`]) expect((await api(bridge, path)).status).toBe(404);
    } finally {
      await bridge.stop();
    }
  });
});
