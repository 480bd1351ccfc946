import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge } from '../../support/bridge-harness.js';
import { BOOKED, INSPECTED_CALL_MODEL, INSPECTED_CALLER, LONG_GREETING, placeInspectedCall, SHORT_ANSWER } from '../../support/inspected-call.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: OtlpValue }>;
  events?: Array<{ name: string }>;
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : (value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue)) ?? value.doubleValue ?? value.boolValue);
};

/**
 * Traces through the real server to an OTLP/HTTP receiver written here: what the official exporter POSTs to
 * /v1/traces (JSON, https://opentelemetry.io/docs/specs/otlp/#otlphttp).
 */
describe('OpenTelemetry traces', () => {
  let receiver: Server;
  const bodies: string[] = [];
  let endpoint = '';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('exports a span per call with children for model sessions, turns and the tool call, carrying the figures and no personal data', async () => {
    const bridge = await startBridge({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, gemini: INSPECTED_CALL_MODEL });
    const { callSid } = await placeInspectedCall(bridge);
    await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    await bridge.stop(); // flushes the batch

    const exports = bodies.map((body) => JSON.parse(body) as OtlpExport);
    const spans = exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const call = spans.find((span) => span.name === 'phone_agent.call' && attribute(span, 'phone_agent.call_sid') === callSid)!;
    expect(call).toBeDefined();
    expect(exports[0]!.resourceSpans[0]!.resource.attributes).toEqual(expect.arrayContaining([{ key: 'service.name', value: { stringValue: 'gemini-phone-agent' } }]));
    expect(attribute(call, 'phone_agent.agent')).toBe('restaurant');
    expect(attribute(call, 'phone_agent.end_reason')).toBe('caller-hung-up');
    expect(attribute(call, 'phone_agent.cost_usd')).toBeGreaterThan(0);
    expect(attribute(call, 'phone_agent.tokens.output_audio')).toBeGreaterThan(0);
    expect(attribute(call, 'phone_agent.heard_latency_p50_ms')).toBeGreaterThan(0);

    const children = spans.filter((span) => span.parentSpanId === call.spanId);
    expect(children.every((span) => span.traceId === call.traceId)).toBe(true);
    const named = (name: string) => children.filter((span) => span.name === name);
    expect(named('phone_agent.model_session')).toHaveLength(1);
    expect(named('phone_agent.turn').length).toBeGreaterThanOrEqual(3);
    const greeting = named('phone_agent.turn').find((span) => attribute(span, 'phone_agent.turn') === 1)!;
    expect(greeting.events?.map((event) => event.name)).toEqual(['barge_in']);
    expect(attribute(greeting, 'phone_agent.interrupted')).toBe(true);
    expect(named('phone_agent.turn').some((span) => (attribute(span, 'phone_agent.heard_latency_ms') as number) > 0)).toBe(true);
    expect(named('phone_agent.tool').map((span) => [attribute(span, 'phone_agent.tool'), attribute(span, 'phone_agent.tool_outcome')])).toEqual([['find_booking', 'ok']]);

    const everything = bodies.join('\n');
    for (const personal of [INSPECTED_CALLER, INSPECTED_CALLER.slice(1), 'K7Q2M9', LONG_GREETING.slice(0, 20), SHORT_ANSWER, BOOKED]) expect(everything).not.toContain(personal);
  });
});
