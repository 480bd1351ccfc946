import type { EndReason } from '../domain/end-reasons.js';
import type { SessionSwitchReason } from '../model/realtime-model.js';
import type { CallSummary } from '../observability/call-events.js';

/**
 * One call as the history keeps it, the API returns it and the post-call webhook sends it. Times on the call's
 * timeline (`atMs`) are milliseconds since the call's media stream started. What people said is here (personal
 * data, which is why the API needs ADMIN_API_KEY); phone numbers are masked unless HISTORY_PHONE_NUMBERS=full;
 * tool arguments their schema marks `sensitive` are masked.
 *
 * A new figure is one more field here (and where the record builder fills it); the store keeps the record whole.
 */
export interface CallRecord {
  callSid: string;
  agent: string;
  direction: 'inbound' | 'outbound';
  /** `browser`: the browser phone (no Twilio leg). */
  channel: 'phone' | 'browser';
  /** The model the agent talked through. */
  model: string;
  from: string | undefined;
  to: string | undefined;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  endReason: EndReason;
  /** Why, when the call ended on a failure (safe to show). */
  endDetail?: string;
  /** Both sides' words, one line per stretch of speech. */
  transcript: TranscriptLine[];
  tools: ToolCallRecord[];
  bargeIns: BargeInRecord[];
  /** How long the caller waited for each answer. */
  turns: TurnRecord[];
  latency: LatencyFigures;
  sessionSwitches: SessionSwitchRecord[];
  /** The recording's files under DATA_DIR/recordings, when the call was recorded (RECORD_CALLS=1). */
  recording: { wav: string; events: string } | undefined;
  /** Every figure of the call summary, tokens and cost included. */
  summary: CallSummary;
}

export interface TranscriptLine {
  atMs: number;
  speaker: 'caller' | 'agent';
  text: string;
}

export interface ToolCallRecord {
  id: string;
  name: string;
  atMs: number;
  /** As the model sent them, values the tool's schema marks `sensitive` masked. */
  args: unknown;
  /** `ok`, `error` (the model was told it failed), `cancelled` (the model withdrew it) or `pending` (the call ended first). */
  outcome: 'ok' | 'error' | 'cancelled' | 'pending';
  durationMs: number | undefined;
  /** The answer the model got (`output` or `error`). */
  result: unknown;
}

export interface BargeInRecord {
  atMs: number;
  turn: number;
  /** Agent audio of the cut turn sent, and confirmed played, before the clear. */
  sentMs: number;
  heardMs: number;
  /**
   * What the caller may have heard of that turn: the agent's words so far, or, once the turn's words had all
   * arrived, the share of them its played audio stands for (to the last whole word).
   */
  heardText: string;
  /** How long the agent kept talking after the caller started (to the clear); undefined when not measured. */
  clearMs: number | undefined;
}

export interface TurnRecord {
  turn: number;
  /** When the caller stopped talking. */
  atMs: number;
  modelMs: number;
  heardMs: number | undefined;
}

export interface LatencyFigures {
  heardP50Ms: number | undefined;
  heardP95Ms: number | undefined;
  modelP50Ms: number | undefined;
  modelP95Ms: number | undefined;
}

export interface SessionSwitchRecord {
  atMs: number;
  reason: SessionSwitchReason;
  switchMs: number;
  resumed: boolean;
}
