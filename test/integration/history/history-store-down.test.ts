import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpeechFixture } from '../../fakes/twilio/index.js';
import { startBridge, type Bridge } from '../../support/bridge-harness.js';
import { INSPECTED_CALL_MODEL } from '../../support/inspected-call.js';
import { startPostgresServer, type PostgresServer } from '../../support/postgres-server.js';

const ADMIN_KEY = 'admin-key-for-the-call-history-0123456789';
const METRICS_KEY = 'metrics-key-for-the-history-test-0123456789';

/** The call history on a real Postgres that goes away in the middle of a call: the call goes on. */
describe('the history store down mid-call', () => {
  let postgres: PostgresServer;
  let bridge: Bridge;

  beforeAll(async () => {
    postgres = await startPostgresServer();
    const databaseUrl = await postgres.createDatabase('history_down_mid_call');
    bridge = await startBridge({ env: { DATABASE_URL: databaseUrl, ADMIN_API_KEY: ADMIN_KEY, METRICS_API_KEY: METRICS_KEY }, gemini: INSPECTED_CALL_MODEL });
  }, 60_000);
  afterAll(async () => {
    await bridge?.stop();
    await postgres?.close();
  });

  const get = (path: string, key = ADMIN_KEY) => fetch(`${bridge.app.localUrl}${path}`, { headers: { Authorization: `Bearer ${key}` } });

  it('loses the record, not the call, and says so once in the log and in the metrics', async () => {
    // A first call is kept in Postgres.
    const first = await bridge.placeCall();
    await first.twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    await first.twilio.hangUp();
    await expect.poll(async () => ((await (await get('/api/calls')).json()) as { calls: unknown[] }).calls.length, { timeout: 5_000 }).toBe(1);

    const { callSid, twilio } = await bridge.placeCall();
    const session = await bridge.gemini.waitForSession(1);
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    await postgres.close(); // the database goes away while the caller is on the line

    // The conversation goes on: the caller speaks, the agent answers in full.
    await twilio.playCallerAudio(loadSpeechFixture('barge-in'));
    await session.waitUntil((s) => s.modelTurns[1]?.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
    const ended = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(ended).toMatchObject({ endReason: 'caller-hung-up', agentTurns: 2 });

    const lost = await bridge.waitForLog((line) => line.msg.startsWith('could not write the call to the history'), 15_000);
    expect(lost).toMatchObject({ level: 50, callSid });
    const metrics = await (await get('/metrics', METRICS_KEY)).text();
    expect(metrics).toMatch(/^phone_agent_history_records_lost_total(\{[^}]*\})? 1$/m);
    expect(bridge.logs.filter((line) => line.msg.startsWith('could not write the call to the history'))).toHaveLength(1);
    // The API says the history is unavailable rather than failing.
    expect((await get('/api/calls')).status).toBe(503);
  });
});
