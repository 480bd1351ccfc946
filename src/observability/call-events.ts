import type { CalleeKind, CalleeVerdict, VerdictSignal } from '../domain/answered-by.js';
import type { CallDetails } from '../domain/call-details.js';
import type { CallCost } from '../costs/call-cost.js';
import type { TokenUsage } from '../costs/usage-meter.js';
import type { EndReason } from '../domain/end-reasons.js';
import type { SessionSwitchReason, UsageReport } from '../model/realtime-model.js';

/** The call summary: what happened on a call, in numbers; logged at the end and handed to `onCallEnded`. */
export interface CallSummary {
  agent: string;
  direction: 'inbound' | 'outbound';
  endReason: EndReason;
  durationMs: number;
  callerAudioSeconds: number;
  agentAudioSentSeconds: number;
  agentAudioHeardSeconds: number;
  interruptions: number;
  agentTurns: number;
  callerTurns: number;
  streamStartToFirstAgentAudioMs: number | undefined;
  callerGapFilledSeconds: number;
  /** Caller audio dropped for arriving faster than real time (src/call/caller-audio-policer.ts). */
  callerAudioDroppedSeconds: number;
  /** Silence that timestamp holes claimed beyond the time that passed, not sent to the model. */
  callerGapRefusedSeconds: number;
  /** Connections to the model over the call's life, and why the call moved between them. */
  modelConnections: number;
  sessionSwitches: Readonly<Record<SessionSwitchReason, number>>;
  stalls: number;
  emptyTurns: number;
  silencePrompts: number;
  /** Tool calls the model repeated within one turn with the same arguments, answered from the first. */
  repeatedToolCalls: number;
  /** Model turns that streamed audio too quiet to hear (the caller heard silence); each was recovered. */
  inaudibleAnswers: number;
  /** Model turns the model declined to answer (Gemini: turnCompleteReason RESPONSE_REJECTED). */
  rejectedTurns: number;
  /** The model session was opened at the webhook, so the greeting was ready when the stream started. */
  greetingPrepared: boolean;
  /** A call we placed: who answered, the signal that decided it and when (docs/outbound.md); absent otherwise. */
  answeredBy?: CalleeVerdict;
  /** Twilio's own recording of the call (TWILIO_RECORDING): its SID and the URL of its media. */
  twilioRecording?: { sid: string; url: string };
  /** The model's tokens over the call, by modality (src/costs/usage-meter.ts). */
  tokens: TokenUsage;
  /** What the call cost, model and phone leg, at the configured prices (src/costs/prices.ts). */
  cost: CallCost;
}

/**
 * Everything that happens on one call, in order, as typed values. The call publishes; the recorder, the
 * browser phone's page, the logs, the metrics and the agent's own `onCallEvent` subscribe. Audio events carry
 * the bytes as they crossed the wire (8 kHz mu-law) and are shared: subscribers must not keep or change them
 * without copying.
 */
export type CallEvent =
  | { type: 'started'; call: CallDetails; streamSid: string }
  /** The model session is set up (`early`: opened at the webhook, before the stream); `resumed`: a failover. */
  | { type: 'modelReady'; setupMs: number; early: boolean; resumed: boolean }
  /** One caller frame, `timestampMs` on Twilio's stream clock (`media.timestamp`). */
  | { type: 'callerAudio'; mulaw: Uint8Array; timestampMs: number }
  /** The caller started or stopped talking; the detector says so `delayMs` after the fact (it waits to be sure). */
  | { type: 'callerSpeechStarted'; delayMs?: number }
  | { type: 'callerSpeechEnded'; delayMs?: number }
  /** One 20 ms frame of agent audio written to the caller's stream. */
  | { type: 'agentAudioSent'; mulaw: Uint8Array; turn: number }
  /** A mark after agent audio; `agentAudioHeard` with the same name when Twilio says it has played. */
  | { type: 'markSent'; name: string }
  | { type: 'agentAudioHeard'; mark: string }
  /** The agent's audio started for a new turn (its first audio, or its first transcript). */
  | { type: 'agentTurnStarted'; turn: number }
  /** The agent's turn is over: completed, or cut off by the caller. */
  | { type: 'agentTurnEnded'; turn: number; interrupted: boolean }
  /**
   * The caller talked over the agent: Twilio was told to `clear`. `heardMs` of the turn's `sentMs` had played;
   * `heardText` is the agent's transcript so far (what the caller may have heard; personal data).
   */
  | { type: 'bargeIn'; turn: number; sentMs: number; heardMs: number; heardText: string }
  /** Twilio was told to drop the agent audio it had not played yet. */
  | { type: 'cleared' }
  /** A transcript fragment: fragments of one turn concatenate (they carry their own leading spaces). */
  | { type: 'transcript'; speaker: 'caller' | 'agent'; text: string }
  /** From the end of the caller's speech (as the service's detector saw it) to the first agent audio after it. */
  | { type: 'latency'; responseMs: number }
  | { type: 'keypad'; digit: string }
  /** Text the service sent the model: a cue (greeting, check-in) or keypad digits. */
  | { type: 'textToModel'; text: string }
  | { type: 'toolCall'; id: string; name: string; args: Record<string, unknown> }
  /** `response` is the answer sent to the model (`output` or `error`). */
  | { type: 'toolResult'; id: string; name: string; ok: boolean; durationMs: number; response: Record<string, unknown> }
  | { type: 'toolCancelled'; ids: readonly string[] }
  | { type: 'sessionSwitched'; reason: SessionSwitchReason; switchMs: number; replayedMs: number; bufferedMs: number; resumed: boolean }
  | { type: 'modelLost'; reason: string }
  /** A call we placed: a signal about who answered (Twilio's verdict, a beep, words, a pause), `ignored` when too late or outweighed. */
  | { type: 'calleeSignal'; signal: VerdictSignal; value: string; atMs: number; ignored: boolean }
  /** A call we placed: the verdict on who answered, or a changed one. `atMs` counts from the callee's first audio. */
  | { type: 'answeredBy'; answeredBy: CalleeKind; decidedBy: VerdictSignal; atMs: number }
  /** Twilio records the call (TWILIO_RECORDING): the recording and where its media will be. */
  | { type: 'twilioRecording'; sid: string; url: string }
  /** The model's usage report, as it sent it (the summary's `tokens` adds them up without counting twice). */
  | { type: 'usage'; usage: UsageReport }
  /** `detail`: why, when the call ended on a failure (e.g. the model could not be reached); safe to show (describeFailure). */
  | { type: 'ended'; reason: EndReason; detail?: string; summary: CallSummary };

export type CallEventType = CallEvent['type'];

export interface CallEventListener {
  (event: CallEvent): void;
  /**
   * Whether this listener reads events of a type; without it, every event. A call builds the per-frame audio events
   * (50 a second each way) only while some listener reads them, so a listener that needs no audio says what it reads
   * (`listenerFor`) or skips (`listenerExcept`).
   */
  readonly readsType?: (type: CallEventType) => boolean;
}

/** A listener for these events only: `handle` sees just them, typed accordingly. */
export function listenerFor<T extends CallEventType>(types: readonly T[], handle: (event: Extract<CallEvent, { type: T }>) => void): CallEventListener {
  const read = new Set<CallEventType>(types);
  return Object.assign((event: CallEvent) => handle(event as Extract<CallEvent, { type: T }>), { readsType: (type: CallEventType) => read.has(type) });
}

/** A listener for every event but these (the per-frame audio it never reads): `handle` sees the others. */
export function listenerExcept<T extends CallEventType>(types: readonly T[], handle: (event: Exclude<CallEvent, { type: T }>) => void): CallEventListener {
  const skipped = new Set<CallEventType>(types);
  return Object.assign((event: CallEvent) => handle(event as Exclude<CallEvent, { type: T }>), { readsType: (type: CallEventType) => !skipped.has(type) });
}

/**
 * One call's event stream. Listeners run in order, synchronously, each on the events it reads; one that throws is
 * reported through `onListenerError` and the others, and the call, carry on.
 */
export class CallEventStream {
  private readonly listeners: CallEventListener[] = [];
  /** `wants`'s answers since the listeners last changed: it is asked for every 20 ms frame each way. */
  private readonly wanted = new Map<CallEventType, boolean>();

  constructor(private readonly onListenerError: (error: unknown, event: CallEvent) => void) {}

  subscribe(listener: CallEventListener): () => void {
    this.listeners.push(listener);
    this.wanted.clear();
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
      this.wanted.clear();
    };
  }

  /** Whether any listener reads events of this type: the call builds per-frame events only then. */
  wants(type: CallEventType): boolean {
    let answer = this.wanted.get(type);
    if (answer === undefined) {
      answer = this.listeners.some((listener) => reads(listener, type));
      this.wanted.set(type, answer);
    }
    return answer;
  }

  publish(event: CallEvent): void {
    for (const listener of this.listeners) {
      if (!reads(listener, event.type)) continue;
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}

const reads = (listener: CallEventListener, type: CallEventType): boolean => listener.readsType === undefined || listener.readsType(type);
