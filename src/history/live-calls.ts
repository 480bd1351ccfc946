import type { CallDetails } from '../domain/call-details.js';
import type { CallObserver } from '../observability/call-observation.js';
import { redactPhoneNumber } from '../observability/redact.js';

/** A call in progress, as the inspector's list shows it at the top. */
export interface LiveCall {
  callSid: string;
  agent: string;
  direction: 'inbound' | 'outbound';
  channel: 'phone' | 'browser';
  from: string | undefined;
  startedAt: string;
  agentTurns: number;
  interruptions: number;
  toolCalls: number;
  /** The latest transcript line, cut short. */
  lastLine: { speaker: 'caller' | 'agent'; text: string } | undefined;
}

const SHOWN_LINE_CHARS = 160;

/**
 * The calls in progress on this instance, for the inspector: each call's observer keeps its entry current, and
 * `onChange` subscribers (the live event streams) hear of every change.
 */
export class LiveCalls {
  private readonly calls = new Map<string, LiveCall>();
  private readonly subscribers = new Set<() => void>();

  list(): LiveCall[] {
    return [...this.calls.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  onChange(subscriber: () => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  observer(call: CallDetails, channel: LiveCall['channel'], phoneNumbers: 'masked' | 'full'): CallObserver {
    const entry: LiveCall = {
      callSid: call.callSid,
      agent: call.agent,
      direction: call.direction,
      channel,
      from: call.from === undefined || phoneNumbers === 'full' ? call.from : redactPhoneNumber(call.from),
      startedAt: new Date().toISOString(),
      agentTurns: 0,
      interruptions: 0,
      toolCalls: 0,
      lastLine: undefined,
    };
    let lineOpen = false;
    return (event) => {
      switch (event.type) {
        case 'started':
          this.calls.set(call.callSid, entry);
          break;
        case 'agentTurnStarted':
          entry.agentTurns = event.turn;
          break;
        case 'bargeIn':
          entry.interruptions++;
          lineOpen = false;
          break;
        case 'toolCall':
          entry.toolCalls++;
          break;
        case 'agentTurnEnded':
          lineOpen = false;
          return;
        case 'transcript': {
          const continues = lineOpen && entry.lastLine?.speaker === event.speaker;
          const text = (continues ? `${entry.lastLine?.text ?? ''}${event.text}` : event.text.trimStart()).slice(-SHOWN_LINE_CHARS);
          entry.lastLine = { speaker: event.speaker, text };
          lineOpen = true;
          break;
        }
        case 'ended':
          this.calls.delete(call.callSid);
          break;
        default:
          return;
      }
      for (const subscriber of this.subscribers) subscriber();
    };
  }
}
