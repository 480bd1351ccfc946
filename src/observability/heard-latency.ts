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

/** The agent audio of one turn (or of its part after the caller stopped), up to its first confirmed playback. */
interface ReplyAudio {
  turn: number;
  /** When its first frame went to Twilio. */
  firstAudioAtMs: number | undefined;
  /** Audio sent before its first mark. */
  audioBeforeMarkMs: number;
  mark: string | undefined;
  /** When its first audio began playing (its first mark's echo, less the audio before it). */
  heardAtMs: number | undefined;
}

interface PendingReply {
  audio: ReplyAudio;
  callerStoppedAtMs: number;
}

/**
 * The latency the caller hears, turn by turn, from a call's events: the end of the caller's speech (the `latency`
 * event says how long before it the caller stopped), and the reply's first audio: the turn's first frame, which may
 * have gone out before the call's own detector was sure the caller had stopped (the model's detection can be
 * quicker). Its first mark's echo says when it played: Twilio echoes a mark once the audio before it has played
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages#mark-message), so playback began that much
 * audio earlier. And each barge-in's clear latency, from the caller's first voiced audio to the `clear`.
 *
 * Pure: it reads the time from `now` when each event arrives (events are published as they happen). One module
 * for every user of these figures (history, metrics, traces, turn detection's measurements).
 */
export class HeardLatencyTracker {
  private audio: ReplyAudio | undefined;
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
        this.audio = newReplyAudio(event.turn);
        return;
      case 'latency':
        this.onCallerStopped(this.now() - event.responseMs);
        return;
      case 'agentAudioSent':
        if (this.audio === undefined) return;
        this.audio.firstAudioAtMs ??= this.now();
        if (this.audio.mark === undefined) this.audio.audioBeforeMarkMs += event.mulaw.length / MULAW_BYTES_PER_MS;
        return;
      case 'markSent':
        if (this.audio !== undefined) this.audio.mark ??= event.name;
        return;
      case 'agentAudioHeard':
        if (this.audio === undefined || event.mark !== this.audio.mark || this.audio.heardAtMs !== undefined) return;
        this.audio.heardAtMs = this.now() - this.audio.audioBeforeMarkMs;
        if (this.reply?.audio === this.audio) this.finishReply();
        return;
      case 'cleared':
        this.audio = undefined;
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

  /**
   * The caller stopped at `stoppedAtMs`, and the model has started to answer (the `latency` event comes with its
   * first audio after the call's detector was sure). A turn whose audio began before the caller stopped is not
   * the answer: the answer starts with the audio about to be sent.
   */
  private onCallerStopped(stoppedAtMs: number): void {
    this.finishReply();
    const current = this.audio;
    const answer = current !== undefined && (current.firstAudioAtMs === undefined || current.firstAudioAtMs >= stoppedAtMs) ? current : newReplyAudio(current?.turn ?? 0);
    this.audio = answer;
    this.reply = { audio: answer, callerStoppedAtMs: stoppedAtMs };
    if (answer.heardAtMs !== undefined) this.finishReply();
  }

  private finishReply(): void {
    const reply = this.reply;
    if (reply === undefined) return;
    this.reply = undefined;
    const { audio, callerStoppedAtMs } = reply;
    const modelMs = Math.round((audio.firstAudioAtMs ?? this.now()) - callerStoppedAtMs);
    const heardMs = audio.heardAtMs === undefined ? undefined : Math.max(0, Math.round(audio.heardAtMs - callerStoppedAtMs));
    this.sinks.onTurn({ turn: audio.turn, callerStoppedAtMs, modelMs, heardMs });
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

function newReplyAudio(turn: number): ReplyAudio {
  return { turn, firstAudioAtMs: undefined, audioBeforeMarkMs: 0, mark: undefined, heardAtMs: undefined };
}

/** The nearest-rank percentile of a list of figures (undefined for none). */
export function percentile(values: readonly number[], fraction: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}
