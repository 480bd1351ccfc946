import type { CallDetails } from '../domain/call-details.js';
import type { CallObserver, ObservedEvent } from '../observability/call-observation.js';
import { percentile } from '../observability/heard-latency.js';
import { redactPhoneNumber } from '../observability/redact.js';
import type { CallRecord, LatencyFigures, ToolCallRecord, TurnRecord } from './call-record.js';

export interface RecordBuilderOptions {
  call: CallDetails;
  channel: 'phone' | 'browser';
  model: string;
  /** HISTORY_PHONE_NUMBERS=full keeps the numbers; by default they are masked like the logs'. */
  phoneNumbers: 'masked' | 'full';
  /** Masks a tool call's arguments as its schema says (`sensitive`). */
  maskToolArguments: (toolName: string, args: unknown) => unknown;
  recording: CallRecord['recording'];
  /** The finished record, once the call has ended. */
  onRecord: (record: CallRecord) => void;
  now?: () => Date;
}

/** Milliseconds rounded for the record: the clock's sub-millisecond digits say nothing. */
const ms = (value: number): number => Math.round(value);

/**
 * Builds a call's history record from its observed events, as the call goes: transcript lines, tool calls with
 * their outcome and duration, barge-ins with what the caller had heard, each turn's latency and session switches.
 * The record is handed over once, when the call ends; nothing here waits for anything.
 */
export function callRecordBuilder(options: RecordBuilderOptions): CallObserver {
  const builder = new RecordBuilder(options);
  return (event, atMs) => builder.observe(event, atMs);
}

type OpenRecord = Omit<CallRecord, 'endedAt' | 'durationMs' | 'endReason' | 'latency' | 'summary'>;

class RecordBuilder {
  private readonly startedAt: Date;
  private readonly record: OpenRecord;
  private readonly tools = new Map<string, ToolCallRecord>();
  private lastSpeaker: 'caller' | 'agent' | undefined;
  private lineOpen = false;
  /** The agent's words of its current turn. */
  private turnText = '';

  constructor(private readonly options: RecordBuilderOptions) {
    const { call, phoneNumbers } = options;
    this.startedAt = (options.now ?? (() => new Date()))();
    this.record = {
      callSid: call.callSid,
      agent: call.agent,
      direction: call.direction,
      channel: options.channel,
      model: options.model,
      from: shownNumber(call.from, phoneNumbers),
      to: shownNumber(call.to, phoneNumbers),
      startedAt: this.startedAt.toISOString(),
      transcript: [],
      tools: [],
      bargeIns: [],
      turns: [],
      sessionSwitches: [],
      recording: options.recording,
    };
  }

  observe(event: ObservedEvent, atMs: number): void {
    const { record } = this;
    switch (event.type) {
      case 'agentTurnStarted':
        this.turnText = '';
        return;
      case 'transcript':
        this.onTranscript(event.speaker, event.text, atMs);
        return;
      case 'agentTurnEnded':
        this.lineOpen = false;
        return;
      case 'toolCall':
      case 'toolResult':
      case 'toolCancelled':
        this.onTool(event, atMs);
        return;
      case 'bargeIn':
        this.lineOpen = false;
        record.bargeIns.push({ atMs: ms(atMs), turn: event.turn, sentMs: event.sentMs, heardMs: event.heardMs, heardText: event.heardText || heardShare(this.turnText, event.heardMs, event.sentMs), clearMs: undefined });
        return;
      case 'bargeInTiming': {
        const bargeIn = record.bargeIns.findLast((b) => b.turn === event.timing.turn);
        if (bargeIn !== undefined) bargeIn.clearMs = event.timing.clearMs;
        return;
      }
      case 'turnLatency':
        record.turns.push({ turn: event.latency.turn, atMs: ms(event.latency.callerStoppedAtMs), modelMs: event.latency.modelMs, heardMs: event.latency.heardMs });
        return;
      case 'sessionSwitched':
        record.sessionSwitches.push({ atMs: ms(atMs), reason: event.reason, switchMs: ms(event.switchMs), resumed: event.resumed });
        return;
      case 'ended':
        this.options.onRecord({
          ...record,
          endedAt: new Date(this.startedAt.getTime() + event.summary.durationMs).toISOString(),
          durationMs: event.summary.durationMs,
          endReason: event.reason,
          ...(event.detail === undefined ? {} : { endDetail: event.detail }),
          latency: latencyFigures(record.turns),
          summary: event.summary,
        });
        return;
      default:
        return;
    }
  }

  /** Fragments of one speaker's stretch of speech join into one line; the other speaker, or a turn's end, starts a new one. */
  private onTranscript(speaker: 'caller' | 'agent', text: string, atMs: number): void {
    if (speaker === 'agent') this.turnText += text;
    const last = this.record.transcript.at(-1);
    if (this.lineOpen && this.lastSpeaker === speaker && last !== undefined) last.text += text;
    else this.record.transcript.push({ atMs: ms(atMs), speaker, text: text.trimStart() });
    this.lastSpeaker = speaker;
    this.lineOpen = true;
  }

  private onTool(event: Extract<ObservedEvent, { type: 'toolCall' | 'toolResult' | 'toolCancelled' }>, atMs: number): void {
    if (event.type === 'toolCall') {
      const call: ToolCallRecord = { id: event.id, name: event.name, atMs: ms(atMs), args: this.options.maskToolArguments(event.name, event.args), outcome: 'pending', durationMs: undefined, result: undefined };
      this.tools.set(event.id, call);
      this.record.tools.push(call);
    } else if (event.type === 'toolResult') {
      const call = this.tools.get(event.id);
      if (call === undefined) return;
      call.outcome = event.ok ? 'ok' : 'error';
      call.durationMs = ms(event.durationMs);
      call.result = event.response;
    } else {
      for (const id of event.ids) {
        const call = this.tools.get(id);
        if (call !== undefined && call.outcome === 'pending') call.outcome = 'cancelled';
      }
    }
  }
}

export function latencyFigures(turns: readonly TurnRecord[]): LatencyFigures {
  const heard = turns.flatMap((turn) => (turn.heardMs === undefined ? [] : [turn.heardMs]));
  const model = turns.map((turn) => turn.modelMs);
  return { heardP50Ms: percentile(heard, 0.5), heardP95Ms: percentile(heard, 0.95), modelP50Ms: percentile(model, 0.5), modelP95Ms: percentile(model, 0.95) };
}

/**
 * The words of a cut turn the caller heard, when the call no longer had them (its generation had completed): the
 * share of the turn's text that its played audio stands for, to the last whole word.
 */
function heardShare(text: string, heardMs: number, sentMs: number): string {
  const words = text.trim();
  if (words === '' || sentMs <= 0) return '';
  const cut = words.slice(0, Math.round((words.length * Math.min(heardMs, sentMs)) / sentMs));
  return cut.length === words.length ? words : cut.slice(0, Math.max(0, cut.lastIndexOf(' '))).trim();
}

function shownNumber(value: string | undefined, phoneNumbers: 'masked' | 'full'): string | undefined {
  return value === undefined || phoneNumbers === 'full' ? value : redactPhoneNumber(value);
}
