import { performance } from 'node:perf_hooks';
import { FRAME_MS, MULAW_BYTES_PER_MS, TWILIO_SAMPLE_RATE_HZ } from '../audio/format.js';
import { MULAW_SILENCE_BYTE, mulawDecode } from '../audio/mulaw.js';
import { SpeechDetector } from '../audio/speech-detector.js';
import type { CallEvent, CallEventListener, CallSummary } from '../observability/call-events.js';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumber, redactPhoneNumbersInText } from '../observability/redact.js';
import { HeardAgentAudio } from './heard-agent-audio.js';
import { MulawTimeline } from './mulaw-timeline.js';
import {
  RECORDING_FORMAT,
  RECORDING_FORMAT_VERSION,
  type AgentTurnRecord,
  type RecordingEvent,
  type RecordingLog,
} from './recording-format.js';

/** The caller's speech is found with the call's own detector settings (see SpeechDetector). */
const CALLER_SPEECH = { thresholdDbfs: -40, startMs: 100, endSilenceMs: 700 } as const;
/** The detector reports speech on the frame that completes these runs: the speech began or ended that many frames earlier. */
const SPEECH_START_FRAMES = Math.max(1, Math.round(CALLER_SPEECH.startMs / FRAME_MS));
const SPEECH_END_FRAMES = Math.max(1, Math.round(CALLER_SPEECH.endSilenceMs / FRAME_MS));
/** Events beyond this many are not kept: a stuck loop must not grow a call's memory without bound. */
const MAX_EVENTS = 20_000;
/** Largest `media.payload` Twilio's parser lets through is 16 KiB of base64: 12 KiB of mu-law. */
const MAX_PAYLOAD_BYTES = 12_288;
/** One second of audio per block when the WAV is produced. */
const PCM_BLOCK_FRAMES = TWILIO_SAMPLE_RATE_HZ;
/**
 * A caller frame this far off the server clock carries a timestamp that jumped (a gap in the stream,
 * or a broken peer), not news about where Twilio's clock started: it does not move the estimate.
 */
const MAX_CLOCK_OFFSET_MS = 5_000;

export interface CallRecorderOptions {
  callSid: string;
  streamSid: string;
  from: string | undefined;
  to: string | undefined;
  direction: string | undefined;
  /** Audio past this much call time is not kept (bounds memory: 16 kB per second of call). */
  maxDurationMs: number;
  log: Logger;
  /** Receives the finished recording at the end of the call (to be written out). */
  onFinished: (recording: FinishedRecording) => void;
  /** Monotonic milliseconds; the call's timeline starts when the recorder is made (at `start`). */
  clock?: () => number;
  /**
   * A tool call's arguments as the recording keeps them: values the tool's schema marks `sensitive` masked (see
   * maskToolArguments). Without it, only phone numbers are masked.
   */
  maskToolArguments?: (toolName: string, args: unknown) => unknown;
}

/** A recording ready to be written: the event log and the stereo audio, produced a second at a time. */
export interface FinishedRecording {
  callSid: string;
  startedAt: Date;
  log: RecordingLog;
  /** Sample frames (per channel) of the WAV. */
  frames: number;
  /** Interleaved PCM16LE stereo (caller left, agent right), one second per block. */
  stereoPcmBlocks(): Generator<Buffer>;
}

interface AgentTurnState {
  turn: number;
  startedAtMs: number;
  text: string;
  interrupted: boolean;
}

/**
 * Records one call, when RECORD_CALLS=1: both sides of the audio on one timeline and an event log.
 * The call feeds it at a few points (caller frames with their Twilio timestamps, the agent's media,
 * marks and clears on their way to Twilio, mark echoes, model events, tool answers, key presses);
 * `finish` hands the result over to be written.
 *
 * Caller audio is placed by `media.timestamp`, agent audio where Twilio played it (see
 * HeardAgentAudio). Both are kept as mu-law in one-second blocks (16 kB per second of call) and
 * decoded to PCM only when the WAV is written. Nothing here may break the call: any failure is
 * logged once and the recording is abandoned.
 */
export class CallRecorder {
  private readonly clock: () => number;
  /** Server-clock time the recorder was made (at the stream's `start`); internal times count from here. */
  private readonly originMs: number;
  /**
   * Where Twilio's stream clock (`media.timestamp`) starts, relative to `originMs`: the smallest
   * arrival time minus timestamp of any caller frame, i.e. the least delayed frame. The server
   * takes a moment to set a call up after `start`; Twilio's clock was running meanwhile.
   */
  private streamClockOffsetMs: number | undefined;
  /** When the recording (its WAV's first sample) began: names its day folder (recordingPaths). */
  readonly startedAt = new Date();
  private readonly caller: MulawTimeline;
  private readonly agent: MulawTimeline;
  private readonly heard: HeardAgentAudio;
  /** Caller speech, found as frames arrive (on Twilio's clock), so ending the call has no audio to scan. */
  private readonly speechDetector = new SpeechDetector(CALLER_SPEECH);
  private readonly speech: Array<{ startMs: number; endMs: number }> = [];
  private speechStartMs = 0;
  private callerEndMs = 0;
  private readonly events: RecordingEvent[] = [];
  private eventsDropped = 0;
  private readonly turns: AgentTurnState[] = [];
  private turnOpen = false;
  private callerText = '';
  private callerTextAtMs = 0;
  /** Agent audio the last `clear` discarded before it played. */
  private lastClearDroppedMs = 0;
  private failed = false;
  private finished = false;

  constructor(private readonly options: CallRecorderOptions) {
    this.clock = options.clock ?? (() => performance.now());
    this.originMs = this.clock();
    const capacitySamples = Math.max(0, Math.round(options.maxDurationMs * MULAW_BYTES_PER_MS));
    this.caller = new MulawTimeline(capacitySamples);
    this.agent = new MulawTimeline(capacitySamples);
    this.heard = new HeardAgentAudio(this.agent);
  }

  /** Milliseconds on the server clock since the recorder was made; `build` maps them onto Twilio's stream clock. */
  private now(): number {
    return this.clock() - this.originMs;
  }

  // ── What the call feeds in: its event stream ─────────────────────────────────────────────────────

  /** The recorder as a subscriber to the call's events. */
  readonly listener: CallEventListener = (event) => this.guard(() => this.onCallEvent(event));

  private onCallEvent(event: CallEvent): void {
    const atMs = (): number => this.nowRounded();
    switch (event.type) {
      case 'callerAudio':
        this.callerAudio(event.mulaw, event.timestampMs);
        return;
      case 'agentAudioSent':
        this.onAgentMedia(event.mulaw);
        return;
      case 'markSent':
        this.heard.mark(event.name);
        return;
      case 'agentAudioHeard':
        this.heard.markEchoed(event.mark, this.now());
        return;
      case 'cleared':
        this.lastClearDroppedMs = this.heard.cleared(this.now()).droppedMs;
        return;
      case 'keypad':
        this.addEvent({ type: 'keypad', atMs: atMs(), digit: event.digit });
        return;
      case 'textToModel':
        this.addEvent({ type: 'textToModel', atMs: atMs(), text: redactPhoneNumbersInText(event.text) });
        return;
      case 'toolResult':
        this.addEvent({ type: 'toolResult', atMs: atMs(), id: event.id, name: event.name, response: redactDeep(event.response) });
        return;
      case 'agentTurnStarted':
        if (!this.turnOpen) this.openTurn();
        return;
      case 'transcript':
        if (event.speaker === 'agent') {
          if (!this.turnOpen) this.openTurn();
          this.turns[this.turns.length - 1]!.text += event.text;
        } else {
          if (this.callerText === '') this.callerTextAtMs = atMs();
          this.callerText += event.text;
        }
        return;
      case 'bargeIn': {
        const turn = this.turns.at(-1);
        if (turn === undefined) return;
        turn.interrupted = true;
        const audio = this.heard.turnAudio(turn.turn);
        this.addEvent({
          type: 'interrupted',
          atMs: atMs(),
          agentTurn: turn.turn,
          sentMs: Math.round(audio.sentMs),
          heardMs: Math.round(audio.heardMs),
          droppedMs: Math.round(this.lastClearDroppedMs),
        });
        this.turnOpen = false;
        return;
      }
      case 'agentTurnEnded':
        this.flushCallerTranscript();
        this.turnOpen = false;
        return;
      case 'toolCall':
        this.addEvent({ type: 'toolCall', atMs: atMs(), id: event.id, name: event.name, args: this.options.maskToolArguments?.(event.name, event.args) ?? redactDeep(event.args) });
        return;
      case 'toolCancelled':
        this.addEvent({ type: 'toolCallCancelled', atMs: atMs(), ids: [...event.ids] });
        return;
      case 'sessionSwitched':
        this.addEvent({ type: 'modelSessionSwitched', atMs: atMs(), reason: event.reason });
        return;
      case 'modelLost':
        this.addEvent({ type: 'modelLost', atMs: atMs(), reason: event.reason });
        return;
      case 'ended':
        this.finish(event.summary);
        return;
      default:
        return;
    }
  }

  /** A caller frame (8 kHz mu-law) with its `media.timestamp` in ms. */
  private callerAudio(mulaw: Uint8Array, timestampMs: number): void {
    const length = Math.min(mulaw.length, MAX_PAYLOAD_BYTES);
    this.caller.write(Math.round(timestampMs * MULAW_BYTES_PER_MS), mulaw.subarray(0, length));
    this.callerEndMs = timestampMs + length / MULAW_BYTES_PER_MS;
    const transition = this.speechDetector.push(mulaw, length);
    if (transition === 'started') this.speechStartMs = timestampMs - (SPEECH_START_FRAMES - 1) * FRAME_MS;
    else if (transition === 'ended' && this.speech.length < MAX_EVENTS) this.speech.push({ startMs: this.speechStartMs, endMs: timestampMs - (SPEECH_END_FRAMES - 1) * FRAME_MS });
    const offsetMs = this.now() - timestampMs;
    if (Math.abs(offsetMs) <= MAX_CLOCK_OFFSET_MS && (this.streamClockOffsetMs === undefined || offsetMs < this.streamClockOffsetMs)) {
      this.streamClockOffsetMs = offsetMs;
    }
  }

  /** The call ended: settle the audio, build the log and hand both over. Only the first call counts. */
  private finish(summary: CallSummary): void {
    if (this.finished) return;
    this.finished = true;
    const endMs = this.now();
    this.heard.finish(endMs);
    this.flushCallerTranscript();
    this.addEvent({ type: 'callEnded', atMs: Math.round(endMs), reason: summary.endReason });
    this.options.onFinished(this.build(summary, endMs));
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────────────────

  private onAgentMedia(mulaw: Uint8Array): void {
    if (!this.turnOpen) this.openTurn();
    // Kept until its mark comes back, so it gets memory of its own (the playout reuses its frame buffer).
    this.heard.sent(mulaw.slice(), this.currentTurn(), this.now());
  }

  private openTurn(): void {
    // The caller's words come first in the log: their transcript may still be arriving as the agent starts.
    this.flushCallerTranscript();
    this.turnOpen = true;
    this.turns.push({ turn: this.turns.length + 1, startedAtMs: this.nowRounded(), text: '', interrupted: false });
  }

  private currentTurn(): number {
    return this.turns.length;
  }

  private flushCallerTranscript(): void {
    const text = this.callerText.trim();
    this.callerText = '';
    if (text === '') return;
    this.addEvent({ type: 'transcript', atMs: this.callerTextAtMs, speaker: 'caller', text: redactPhoneNumbersInText(text) });
  }

  private addEvent(event: RecordingEvent): void {
    if (this.events.length >= MAX_EVENTS) {
      this.eventsDropped++;
      return;
    }
    this.events.push(event);
  }

  private nowRounded(): number {
    return Math.round(this.now());
  }

  private build(summary: CallSummary, endServerMs: number): FinishedRecording {
    // Everything timed on the server clock moves onto Twilio's stream clock, the caller channel's own.
    const shiftSamples = Math.round((this.streamClockOffsetMs ?? 0) * MULAW_BYTES_PER_MS);
    const shiftMs = shiftSamples / MULAW_BYTES_PER_MS;
    const toCallMs = (serverMs: number): number => Math.max(0, Math.round(serverMs - shiftMs));
    const endMs = toCallMs(endServerMs);
    // As long as the call (silence where neither side sent anything), up to the recording limit.
    const frames = Math.min(
      this.caller.capacitySamples,
      Math.max(this.caller.lengthSamples, this.agent.lengthSamples - shiftSamples, endMs * MULAW_BYTES_PER_MS),
    );
    const speech = this.speechDetector.isSpeaking ? [...this.speech, { startMs: this.speechStartMs, endMs: Math.round(this.callerEndMs) }] : this.speech;
    const agentTurns = this.agentTurnRecords(speech, toCallMs);
    const events: RecordingEvent[] = [
      ...this.events.map((event) => ({ ...event, atMs: toCallMs(event.atMs) })),
      ...speech.map(({ startMs, endMs: end }): RecordingEvent => ({ type: 'callerSpeech', atMs: startMs, endMs: end })),
      ...agentTurns
        .filter((turn) => turn.text.trim() !== '')
        .map((turn): RecordingEvent => ({
          type: 'transcript',
          atMs: turn.firstHeardAtMs ?? turn.startedAtMs,
          speaker: 'agent',
          text: redactPhoneNumbersInText(turn.text.trim()),
          agentTurn: turn.turn,
          ...(turn.interrupted ? { interrupted: true } : {}),
        })),
    ];
    events.sort((a, b) => a.atMs - b.atMs); // stable: same-time events keep the order they happened in
    const { options } = this;
    const log: RecordingLog = {
      format: RECORDING_FORMAT,
      version: RECORDING_FORMAT_VERSION,
      callSid: options.callSid,
      streamSid: options.streamSid,
      ...(options.from === undefined ? {} : { from: redactPhoneNumber(options.from) }),
      ...(options.to === undefined ? {} : { to: redactPhoneNumber(options.to) }),
      ...(options.direction === undefined ? {} : { direction: options.direction }),
      startedAt: new Date(this.startedAt.getTime() + shiftMs).toISOString(),
      endedAt: new Date(this.startedAt.getTime() + shiftMs + endMs).toISOString(),
      endReason: summary.endReason,
      durationMs: endMs,
      audio: {
        file: `${options.callSid}.wav`,
        sampleRateHz: TWILIO_SAMPLE_RATE_HZ,
        channels: ['caller', 'agent'],
        frames,
        truncated: this.caller.droppedSamples + this.agent.droppedSamples > 0,
        playoutLagMs: Math.round(this.heard.playoutLagMs),
      },
      events,
      agentTurns,
      summary: this.eventsDropped === 0 ? summary : { ...summary, recordingEventsDropped: this.eventsDropped },
    };
    const caller = this.caller;
    const agent = this.agent;
    return {
      callSid: options.callSid,
      startedAt: this.startedAt,
      log,
      frames,
      *stereoPcmBlocks() {
        const callerBytes = new Uint8Array(PCM_BLOCK_FRAMES);
        const agentBytes = new Uint8Array(PCM_BLOCK_FRAMES);
        const left = new Int16Array(PCM_BLOCK_FRAMES);
        const right = new Int16Array(PCM_BLOCK_FRAMES);
        for (let start = 0; start < frames; start += PCM_BLOCK_FRAMES) {
          const count = Math.min(PCM_BLOCK_FRAMES, frames - start);
          caller.read(start, callerBytes.subarray(0, count));
          readShifted(agent, start + shiftSamples, agentBytes.subarray(0, count));
          mulawDecode(callerBytes, left, 0, count);
          mulawDecode(agentBytes, right, 0, count);
          const interleaved = new Int16Array(count * 2);
          for (let i = 0; i < count; i++) {
            interleaved[2 * i] = left[i]!;
            interleaved[2 * i + 1] = right[i]!;
          }
          // PCM16 little-endian: the audio modules refuse to load on a big-endian host.
          yield Buffer.from(interleaved.buffer, 0, interleaved.byteLength);
        }
      },
    };
  }

  /** Per agent turn: what was sent and heard, and how long after the caller's last input it was heard (call-timeline ms). */
  private agentTurnRecords(speech: Array<{ startMs: number; endMs: number }>, toCallMs: (serverMs: number) => number): AgentTurnRecord[] {
    const keyPresses = this.events.filter((event) => event.type === 'keypad').map((event) => toCallMs(event.atMs));
    let previousTurnAtMs = 0;
    return this.turns.map((turn) => {
      const audio = this.heard.turnAudio(turn.turn);
      const firstHeardAtMs = audio.firstHeardAtMs === undefined ? undefined : toCallMs(audio.firstHeardAtMs);
      const startedAtMs = toCallMs(turn.startedAtMs);
      const record: AgentTurnRecord = {
        turn: turn.turn,
        startedAtMs,
        ...(firstHeardAtMs === undefined ? {} : { firstHeardAtMs }),
        sentMs: Math.round(audio.sentMs),
        heardMs: Math.round(audio.heardMs),
        interrupted: turn.interrupted,
        text: turn.text.trim(),
      };
      if (firstHeardAtMs !== undefined) {
        const lastSpeechEnd = latestAtOrBefore(speech.map((s) => s.endMs), firstHeardAtMs);
        const lastKey = latestAtOrBefore(keyPresses, firstHeardAtMs);
        const lastInput = Math.max(lastSpeechEnd, lastKey);
        // Only input after the previous turn began is what this turn answers.
        if (lastInput >= 0 && lastInput > previousTurnAtMs) {
          record.latencyMs = firstHeardAtMs - lastInput;
          record.respondsTo = lastKey > lastSpeechEnd ? 'keypad' : 'speech';
        }
      }
      previousTurnAtMs = firstHeardAtMs ?? startedAtMs;
      return record;
    });
  }

  private guard(action: () => void): void {
    if (this.failed) return;
    try {
      action();
    } catch (error) {
      this.failed = true;
      this.options.log.error({ err: error }, 'call recording failed; the call goes on without it');
    }
  }
}

/** Reads `out.length` samples from `position`, which may be before the timeline's start (silence there). */
function readShifted(timeline: MulawTimeline, position: number, out: Uint8Array): void {
  const before = Math.min(out.length, Math.max(0, -position));
  out.fill(MULAW_SILENCE_BYTE, 0, before);
  if (before < out.length) timeline.read(position + before, out.subarray(before));
}

/** The latest of `times` not after `limit`, or -1. */
function latestAtOrBefore(times: readonly number[], limit: number): number {
  let latest = -1;
  for (const time of times) if (time <= limit && time > latest) latest = time;
  return latest;
}

/** Every string in a JSON value with phone numbers masked (tool arguments and answers). */
function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactPhoneNumbersInText(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item)]));
  }
  return value;
}
