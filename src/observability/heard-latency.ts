import { MULAW_BYTES_PER_MS } from '../audio/format.js';
import type { CallEvent } from './call-events.js';

/** How long the caller waited for one answer, on the tracker's clock (ms). */
export interface TurnLatency {
  /** The agent turn that answered. */
  turn: number;
  /** When the caller stopped talking. */
  callerStoppedAtMs: number;
  /** The model's share: from the end of the caller's speech to the reply's first audio from the model. */
  modelMs: number;
  /**
   * What the caller heard: from the end of their speech to the moment the reply's first audio played on the phone
   * (Twilio's echo of the mark after it, less the audio before that mark). Undefined when no audio of the reply was
   * confirmed played (the caller cut it first, or the call ended).
   */
  heardMs: number | undefined;
}

/** A barge-in's timing: how long the agent kept talking after the caller started (until Twilio was told to clear). */
export interface BargeInTiming {
  turn: number;
  /** Undefined when the call's own detector never heard the caller start (the model heard them first and alone). */
  clearMs: number | undefined;
}

/** The model's own voice detection may hear the caller before ours: a start this soon after the clear still counts. */
const LATE_SPEECH_START_MS = 1_000;

interface PendingReply {
  turn: number;
  callerStoppedAtMs: number;
  modelMs: number;
  /** Agent audio of the reply sent before its first mark. */
  audioBeforeMarkMs: number;
  mark: string | undefined;
}

/**
 * The latency the caller hears, turn by turn, from a call's events: the end of the caller's speech (the
 * `latency` event, published with the reply's first audio, says how long before that the caller stopped), then
 * the first mark after the reply's first audio; when Twilio echoes that mark the audio before it has played
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages#mark-message), so playback began that much
 * audio earlier. And each barge-in's clear latency, from the caller's first voiced audio to the `clear`.
 *
 * Pure: it reads the time from `now` when each event arrives (events are published as they happen). One module
 * for every user of these figures (history, metrics, traces, turn detection's measurements).
 */
export class HeardLatencyTracker {
  private turn = 0;
  private reply: PendingReply | undefined;
  private callerSpeaking = false;
  private speechStartedAtMs: number | undefined;
  private unmatchedBargeIn: { turn: number; atMs: number } | undefined;

  constructor(
    private readonly now: () => number,
    private readonly sinks: { onTurn(latency: TurnLatency): void; onBargeIn(timing: BargeInTiming): void },
  ) {}

  observe(event: CallEvent): void {
    switch (event.type) {
      case 'agentTurnStarted':
        this.turn = event.turn;
        return;
      case 'latency':
        this.finishReply();
        this.reply = { turn: this.turn, callerStoppedAtMs: this.now() - event.responseMs, modelMs: event.responseMs, audioBeforeMarkMs: 0, mark: undefined };
        return;
      case 'agentAudioSent':
        if (this.reply !== undefined && this.reply.mark === undefined) this.reply.audioBeforeMarkMs += event.mulaw.length / MULAW_BYTES_PER_MS;
        return;
      case 'markSent':
        if (this.reply !== undefined) this.reply.mark ??= event.name;
        return;
      case 'agentAudioHeard':
        if (this.reply !== undefined && event.mark === this.reply.mark) this.finishReply(this.now() - this.reply.audioBeforeMarkMs);
        return;
      case 'cleared':
        this.finishReply();
        return;
      case 'ended':
        this.finishReply();
        if (this.unmatchedBargeIn !== undefined) this.sinks.onBargeIn({ turn: this.unmatchedBargeIn.turn, clearMs: undefined });
        this.unmatchedBargeIn = undefined;
        return;
      case 'callerSpeechStarted':
        this.onSpeechStarted(this.now() - (event.delayMs ?? 0));
        return;
      case 'callerSpeechEnded':
        this.callerSpeaking = false;
        return;
      case 'bargeIn':
        this.onBargeIn(event.turn);
        return;
      default:
        return;
    }
  }

  private finishReply(heardAtMs?: number): void {
    const reply = this.reply;
    if (reply === undefined) return;
    this.reply = undefined;
    const heardMs = heardAtMs === undefined ? undefined : Math.max(0, Math.round(heardAtMs - reply.callerStoppedAtMs));
    this.sinks.onTurn({ turn: reply.turn, callerStoppedAtMs: reply.callerStoppedAtMs, modelMs: Math.round(reply.modelMs), heardMs });
  }

  private onSpeechStarted(startedAtMs: number): void {
    this.callerSpeaking = true;
    this.speechStartedAtMs = startedAtMs;
    const bargeIn = this.unmatchedBargeIn;
    if (bargeIn === undefined) return;
    this.unmatchedBargeIn = undefined;
    if (this.now() - bargeIn.atMs <= LATE_SPEECH_START_MS) this.sinks.onBargeIn({ turn: bargeIn.turn, clearMs: Math.max(0, Math.round(bargeIn.atMs - startedAtMs)) });
    else this.sinks.onBargeIn({ turn: bargeIn.turn, clearMs: undefined });
  }

  private onBargeIn(turn: number): void {
    if (this.unmatchedBargeIn !== undefined) this.sinks.onBargeIn({ turn: this.unmatchedBargeIn.turn, clearMs: undefined });
    this.unmatchedBargeIn = undefined;
    if (this.callerSpeaking && this.speechStartedAtMs !== undefined) {
      this.sinks.onBargeIn({ turn, clearMs: Math.round(this.now() - this.speechStartedAtMs) });
    } else {
      this.unmatchedBargeIn = { turn, atMs: this.now() };
    }
  }
}

/** The nearest-rank percentile of a list of figures (undefined for none). */
export function percentile(values: readonly number[], fraction: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}
