import { describe, expect, it } from 'vitest';
import { callFiguresMetrics } from '../../../src/observability/call-figures-metrics.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { quietCallSummary } from '../../support/call-summary.js';

describe('call figures in /metrics', () => {
  it('counts tokens and cost by agent, and observes heard latency, barge-in clears and tool durations', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const observe = callFiguresMetrics(metrics, 'dental');
    observe({ type: 'turnLatency', latency: { turn: 2, callerStoppedAtMs: 1_000, modelMs: 640, heardMs: 910 } }, 1_910);
    observe({ type: 'bargeInTiming', timing: { turn: 3, clearMs: 180 } }, 4_000);
    observe({ type: 'toolResult', id: 'a', name: 'find_booking', ok: true, durationMs: 1_200, response: { output: {} } }, 5_000);
    const tokens = { input: { text: 1_000, audio: 2_000, other: 25 }, output: { text: 0, audio: 500 }, thinking: 0, toolUsePrompt: 0, cached: 0, total: 3_525, source: 'reported' as const, reports: 3 };
    const cost = { currency: 'USD' as const, model: 0.01, telephony: 0.0129, total: 0.0229, estimated: false, priceModel: 'gemini-3.8-live', pricesAsOf: '2026-09-30' };
    observe({ type: 'ended', reason: 'caller-hung-up', summary: quietCallSummary({ tokens, cost }) }, 60_000);
    const text = await metrics.render();
    expect(text).toContain('phone_agent_model_tokens_total{agent="dental",kind="input_audio"} 2000');
    expect(text).toContain('phone_agent_model_tokens_total{agent="dental",kind="input_other"} 25');
    expect(text).not.toContain('kind="output_text"');
    expect(text).toContain('phone_agent_call_cost_usd_total{agent="dental",part="model"} 0.01');
    expect(text).toContain('phone_agent_call_cost_usd_total{agent="dental",part="telephony"} 0.0129');
    expect(text).toContain('phone_agent_heard_latency_seconds_bucket{le="1",agent="dental"} 1');
    expect(text).toContain('phone_agent_heard_latency_seconds_bucket{le="0.75",agent="dental"} 0');
    expect(text).toContain('phone_agent_model_latency_seconds_sum{agent="dental"} 0.64');
    expect(text).toContain('phone_agent_barge_in_clear_seconds_bucket{le="0.2",agent="dental"} 1');
    expect(text).toContain('phone_agent_tool_duration_seconds_bucket{le="2",tool="find_booking",outcome="ok"} 1');
    expect(text).toContain('phone_agent_tool_duration_seconds_bucket{le="1",tool="find_booking",outcome="ok"} 0');
  });
});
