import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, METRICS_PATH, metricsHandler } from '../../../src/observability/metrics.js';

const KEY = 'k'.repeat(40);
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('metrics', () => {
  it('exposes every fleet metric in Prometheus text format, with process metrics', async () => {
    const metrics = createMetrics({ defaultLabels: { instance_id: 'agent-1' } });
    metrics.activeCalls.inc();
    metrics.activeCalls.inc();
    metrics.activeCalls.dec();
    metrics.callsStarted.inc({ direction: 'inbound' });
    metrics.callsEnded.inc({ reason: 'caller-hung-up' });
    metrics.streamAffinity.inc({ result: 'hit' });
    metrics.streamAffinity.inc({ result: 'miss' });
    metrics.failovers.inc();
    metrics.geminiSessionSetupSeconds.observe(0.42);
    metrics.streamStartToFirstAudioSeconds.observe(0.08);
    metrics.redisErrors.inc(3);
    metrics.preOpenedSessionsExpired.inc();
    const text = await metrics.render();
    expect(text).toContain('phone_agent_active_calls{instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_calls_started_total{direction="inbound",instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_calls_ended_total{reason="caller-hung-up",instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_stream_affinity_total{result="hit",instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_stream_affinity_total{result="miss",instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_failovers_total{instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_gemini_session_setup_seconds_bucket{le="0.5",instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_gemini_session_setup_seconds_count{instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_stream_start_to_first_audio_seconds_bucket{le="0.1",instance_id="agent-1"} 1');
    expect(text).toContain('phone_agent_redis_errors_total{instance_id="agent-1"} 3');
    expect(text).toContain('phone_agent_preopened_sessions_expired_total{instance_id="agent-1"} 1');
    expect(text).toContain('# TYPE phone_agent_gemini_session_setup_seconds histogram');
    expect(text).toMatch(/^process_resident_memory_bytes\{instance_id="agent-1"\} \d+/m);
  });

  it('keeps each app on its own registry: two apps in one process do not share or collide', async () => {
    const a = createMetrics({ processMetrics: true });
    const b = createMetrics({ processMetrics: true });
    a.activeCalls.set(5);
    b.activeCalls.set(2);
    expect(await a.render()).toMatch(/^phone_agent_active_calls 5$/m);
    expect(await b.render()).toMatch(/^phone_agent_active_calls 2$/m);
  });

  it('serves GET /metrics only with the bearer key', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.activeCalls.set(7);
    const app = express();
    app.get(METRICS_PATH, metricsHandler(metrics, KEY));
    const base = await serve(app);

    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await ok.text()).toMatch(/^phone_agent_active_calls 7$/m);

    for (const headers of [{}, { authorization: `Bearer ${KEY}x` }, { authorization: `Basic ${KEY}` }, { authorization: 'Bearer' }] as Array<Record<string, string>>) {
      const refused = await fetch(`${base}/metrics`, { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await refused.text()).not.toContain('phone_agent');
    }
  });
});
