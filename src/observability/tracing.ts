import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { CallDetails } from '../domain/call-details.js';
import type { CallObserver, ObservedEvent } from './call-observation.js';
import type { CallSummary } from './call-events.js';
import { percentile } from './heard-latency.js';

/** The packages tracing needs; optional peer dependencies, so an install without tracing stays light. */
export const TRACING_PACKAGES = ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources'];

export interface CallTracing {
  /** The call's observer: its span and its children. */
  observer(call: CallDetails, info: { channel: 'phone' | 'browser'; model: string }): CallObserver;
  /** Exports what is left and stops (server stopping). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Names this instance on its spans (`service.instance.id`). */
  instanceId: string;
  /** Where the OTLP/HTTP exporter sends spans; its headers, timeout and compression come from OTEL_EXPORTER_OTLP_*. */
  tracesUrl: string;
  /** Replaces the OTLP exporter (tests). */
  exporter?: SpanExporter;
}

/**
 * OpenTelemetry traces of calls, loaded only when tracing is on (an OTLP endpoint is set): the SDK's batch
 * processor, sampler and OTLP/HTTP exporter read the standard OTEL_* variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/). The provider is the
 * service's own, never registered globally, so an application embedding the service keeps its own.
 */
export async function startTracing(options: TracingOptions): Promise<CallTracing> {
  const modules = await Promise.all([import('@opentelemetry/api'), import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources')]).catch(
    (error: unknown) => {
      throw new Error(`OpenTelemetry tracing is configured (OTEL_EXPORTER_OTLP_ENDPOINT) but its packages are not installed: npm install ${TRACING_PACKAGES.join(' ')} (${(error as Error).message.split('\n')[0]})`);
    },
  );
  const [api, sdk, otlp, resources] = modules;
  const resource = resources
    .resourceFromAttributes({ 'service.name': 'gemini-phone-agent', 'service.instance.id': options.instanceId })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [new sdk.BatchSpanProcessor(options.exporter ?? new otlp.OTLPTraceExporter({ url: options.tracesUrl }))] });
  const tracer = provider.getTracer('gemini-phone-agent');
  return {
    observer: (call, info) => callSpans(tracer, (span) => api.trace.setSpan(api.context.active(), span), call, info),
    shutdown: () => provider.shutdown(),
  };
}

type ParentContext = (span: Span) => import('@opentelemetry/api').Context;

/**
 * One span per call (`phone_agent.call`), with a child for each model session, agent turn and tool call, carrying
 * the history's figures. No transcript text, no tool arguments, no phone numbers.
 */
function callSpans(tracer: Tracer, parent: ParentContext, call: CallDetails, info: { channel: string; model: string }): CallObserver {
  const callSpan = tracer.startSpan('phone_agent.call', { attributes: { 'phone_agent.call_sid': call.callSid, 'phone_agent.agent': call.agent, 'phone_agent.direction': call.direction, 'phone_agent.channel': info.channel, 'phone_agent.model': info.model } });
  const child = (name: string, attributes: Attributes): Span => tracer.startSpan(name, { attributes }, parent(callSpan));
  let session: Span | undefined;
  let sessions = 0;
  const turns = new Map<number, Span>();
  const tools = new Map<string, Span>();
  const heard: number[] = [];
  const openSession = (attributes: Attributes): void => {
    session?.end();
    session = child('phone_agent.model_session', { 'phone_agent.session': ++sessions, ...attributes });
  };
  return (event: ObservedEvent) => {
    switch (event.type) {
      case 'modelReady':
        openSession({ 'phone_agent.session_reason': 'start', 'phone_agent.setup_ms': event.setupMs, 'phone_agent.opened_at_webhook': event.early, 'phone_agent.resumed': event.resumed });
        return;
      case 'sessionSwitched':
        openSession({ 'phone_agent.session_reason': event.reason, 'phone_agent.switch_ms': event.switchMs, 'phone_agent.resumed': event.resumed });
        return;
      case 'agentTurnStarted':
        turns.set(event.turn, child('phone_agent.turn', { 'phone_agent.turn': event.turn, 'phone_agent.interrupted': false }));
        return;
      case 'turnLatency': {
        const { latency } = event;
        if (latency.heardMs !== undefined) heard.push(latency.heardMs);
        turns.get(latency.turn)?.setAttributes({ 'phone_agent.model_latency_ms': latency.modelMs, ...(latency.heardMs === undefined ? {} : { 'phone_agent.heard_latency_ms': latency.heardMs }) });
        return;
      }
      case 'bargeIn':
        turns.get(event.turn)?.addEvent('barge_in', { 'phone_agent.sent_ms': event.sentMs, 'phone_agent.heard_ms': event.heardMs }).setAttribute('phone_agent.interrupted', true);
        return;
      case 'bargeInTiming':
        if (event.timing.clearMs !== undefined) turns.get(event.timing.turn)?.setAttribute('phone_agent.barge_in_clear_ms', event.timing.clearMs);
        return;
      case 'agentTurnEnded':
        if (event.interrupted) turns.get(event.turn)?.setAttribute('phone_agent.interrupted', true);
        // Kept open a moment for its latency and barge-in figures; ended with the next turn or the call.
        for (const [turn, span] of turns) if (turn < event.turn) endAndForget(turns, turn, span);
        return;
      case 'toolCall':
        tools.set(event.id, child('phone_agent.tool', { 'phone_agent.tool': event.name }));
        return;
      case 'toolResult':
        tools.get(event.id)?.setAttributes({ 'phone_agent.tool_outcome': event.ok ? 'ok' : 'error', 'phone_agent.tool_duration_ms': Math.round(event.durationMs) });
        endTool(tools, event.id);
        return;
      case 'toolCancelled':
        for (const id of event.ids) {
          tools.get(id)?.setAttribute('phone_agent.tool_outcome', 'cancelled');
          endTool(tools, id);
        }
        return;
      case 'ended':
        for (const [turn, span] of turns) endAndForget(turns, turn, span);
        for (const id of [...tools.keys()]) endTool(tools, id);
        session?.end();
        callSpan.setAttributes({ 'phone_agent.end_reason': event.reason, ...summaryAttributes(event.summary), ...percentiles(heard) });
        callSpan.end();
        return;
      default:
        return;
    }
  };
}

function endAndForget(turns: Map<number, Span>, turn: number, span: Span): void {
  span.end();
  turns.delete(turn);
}

function endTool(tools: Map<string, Span>, id: string): void {
  tools.get(id)?.end();
  tools.delete(id);
}

function percentiles(heard: number[]): Attributes {
  const p50 = percentile(heard, 0.5);
  const p95 = percentile(heard, 0.95);
  return p50 === undefined || p95 === undefined ? {} : { 'phone_agent.heard_latency_p50_ms': p50, 'phone_agent.heard_latency_p95_ms': p95 };
}

function summaryAttributes(summary: CallSummary): Attributes {
  const { tokens, cost } = summary;
  return {
    'phone_agent.duration_ms': summary.durationMs,
    'phone_agent.interruptions': summary.interruptions,
    'phone_agent.agent_turns': summary.agentTurns,
    'phone_agent.tokens.input_text': tokens.input.text + tokens.input.other,
    'phone_agent.tokens.input_audio': tokens.input.audio,
    'phone_agent.tokens.output_text': tokens.output.text,
    'phone_agent.tokens.output_audio': tokens.output.audio,
    'phone_agent.tokens.thinking': tokens.thinking,
    'phone_agent.tokens.total': tokens.total,
    'phone_agent.tokens.estimated': tokens.source === 'estimated',
    'phone_agent.cost_usd': cost.total,
    'phone_agent.cost.telephony_usd': cost.telephony,
    ...(cost.model === undefined ? {} : { 'phone_agent.cost.model_usd': cost.model }),
  };
}
