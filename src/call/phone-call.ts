import { CallerToModelAudio } from '../audio/caller-to-model.js';
import { FRAME_MS, MULAW_BYTES_PER_MS, TWILIO_FRAME_BYTES } from '../audio/format.js';
import { MULAW_SILENCE_BYTE } from '../audio/mulaw.js';
import { ModelToCallerAudio } from '../audio/model-to-caller.js';
import { SpeechDetector } from '../audio/speech-detector.js';
import type { CallLimits, Config } from '../config.js';
import { GeminiLiveSession } from '../model/gemini-live-session.js';
import type { LiveConversation, ConversationEvent } from '../model/live-conversation.js';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumber } from '../observability/redact.js';
import type { CallRecorder } from '../recording/call-recorder.js';
import type { CallRecordings } from '../recording/call-recordings.js';
import type { StreamEndReason, TwilioMediaStream } from '../telephony/media-stream-connection.js';
import type { StartEvent, TwilioInboundMessage } from '../telephony/media-stream-protocol.js';
import type { CallInfo } from '../telephony/stream-tokens.js';
import { isOutboundCall, otherPartyNumber } from '../telephony/call-direction.js';
import type { CallControl } from '../telephony/twilio-rest.js';
import type { ToolRegistry } from '../tools/tool.js';
import { AgentPlayout } from './agent-playout.js';
import { CallTools } from './call-tools.js';
import { ConversationWatchdog } from './conversation-watchdog.js';
import { GREETING_CUE, OUTBOUND_CALL_CUE } from './cues.js';
import { createCallConversation, type EarlyConversation } from './early-conversations.js';
import type { CallEvent, CallObserver } from './call-observer.js';

/** Longest hole in the caller's audio we fill with silence; beyond it the stream is broken, not quiet. */
const MAX_GAP_FILL_MS = 10_000;
const SILENT_FRAME_BASE64 = Buffer.alloc(TWILIO_FRAME_BYTES, MULAW_SILENCE_BYTE).toString('base64');
export { GREETING_CUE, OUTBOUND_CALL_CUE } from './cues.js';

export interface CallDeps {
  gemini: Config['gemini'];
  log: Logger;
  /** Opens the model session; a seam so tests and later issues can supply sessions, default is Gemini Live. */
  openModel?: typeof GeminiLiveSession.open;
  /** The tools offered to the model, and the REST client that ends or transfers calls for them. */
  tools: { registry: ToolRegistry; callControl: CallControl; timeoutMs: number };
  limits: CallLimits;
  /** Present with RECORD_CALLS=1: each call records its audio as heard and an event log. */
  recordings?: CallRecordings;
  onEnded: (call: PhoneCall) => void;
  /** Someone watching the call live (the browser phone's page): transcript, tool calls, latencies. */
  observer?: CallObserver;
  /** The conversation opened at the webhook (instant greeting), when there is one. */
  early?: EarlyConversation;
}

export interface CallSummary {
  endReason: string;
  durationMs: number;
  callerAudioSeconds: number;
  agentAudioSentSeconds: number;
  agentAudioHeardSeconds: number;
  interruptions: number;
  agentTurns: number;
  callerTurns: number;
  streamStartToFirstAgentAudioMs: number | undefined;
  callerGapFilledSeconds: number;
  liveSessions: number;
  handovers: number;
  reconnects: number;
  stalls: number;
  emptyTurns: number;
  silencePrompts: number;
  /** The Gemini session was opened at the webhook, so the greeting was ready when the stream started. */
  greetingPrepared: boolean;
}

/**
 * One phone call, from an authenticated media stream to hang-up. Reads top to bottom:
 * start → caller audio to the model → model events to the caller → barge-in → end and summary.
 */
export class PhoneCall {
  readonly callSid: string;
  private readonly log: Logger;
  private readonly startedAtMs = Date.now();
  private readonly callerAudio = new CallerToModelAudio();
  private readonly agentAudio = new ModelToCallerAudio();
  private readonly playout: AgentPlayout;
  /** The Gemini side: one or more Live sessions over the call's life (handover, reconnects). */
  private readonly conversation: LiveConversation;
  private readonly tools: CallTools;
  /** Notices dead air: a model that does not answer, a caller who went quiet, a call that runs too long. */
  private readonly watchdog: ConversationWatchdog;
  private readonly callerSpeech = new SpeechDetector();
  /** Fed at a few points below when the call is recorded; undefined (and free) otherwise. */
  private readonly recorder: CallRecorder | undefined;
  private ended = false;
  private endReason = '';

  // What the call summary reports.
  private callerAudioBytes = 0;
  private nextCallerTimestampMs: number | undefined;
  private gapFilledMs = 0;
  private interruptions = 0;
  private agentTurns = 0;
  private callerTurns = 0;
  private firstAgentAudioAtMs: number | undefined;
  /** Audio for an interrupted turn that is still arriving is dropped until that turn completes. */
  private droppingInterruptedTurn = false;
  private callerTranscript = '';
  /** When the caller last stopped talking, until the agent's next audio: the response latency's start. */
  private callerSpeechEndedAtMs: number | undefined;
  private agentTranscript = '';

  constructor(
    private readonly stream: TwilioMediaStream,
    start: StartEvent,
    private readonly info: CallInfo,
    private readonly deps: CallDeps,
  ) {
    this.callSid = start.start.callSid;
    this.log = deps.log.child({ callSid: this.callSid, streamSid: stream.streamSid });
    this.recorder = deps.recordings?.start({ callSid: this.callSid, streamSid: stream.streamSid, call: info, callLimitMs: deps.limits.maxCallDurationMs, log: this.log });
    this.playout = new AgentPlayout(this.recorder?.playoutSink(stream) ?? stream, () => this.tools.onAgentAudioPlayed());
    // An early conversation's events reach onModelEvent once start() has wired the stream.
    this.conversation =
      deps.early?.conversation ??
      createCallConversation({ gemini: deps.gemini, registry: deps.tools.registry, ...(deps.openModel === undefined ? {} : { openModel: deps.openModel }) }, this.log, (event) =>
        this.onModelEvent(event),
      );
    this.tools = new CallTools({
      callSid: this.callSid,
      // The person on the line: on a call we placed, Twilio's From is our own number.
      callerNumber: otherPartyNumber(info),
      registry: deps.tools.registry,
      callControl: deps.tools.callControl,
      toolTimeoutMs: deps.tools.timeoutMs,
      log: this.log,
      model: this.recorder?.modelInput(this.conversation) ?? this.conversation,
      agentAudioPending: () => this.playout.unconfirmedMs > 0,
      endCall: (reason) => this.end(reason),
      notify: (event) => this.notify(event),
    });
    this.watchdog = new ConversationWatchdog(deps.limits, {
      cue: (text) => this.conversation.sendText(text),
      resumeSession: () => this.conversation.resumeAfterStall(),
      hangUpAfterGoodbye: (cue, reason) => {
        this.log.info({ reason }, 'ending the call after a goodbye');
        this.tools.hangUpAfterGoodbye(cue, reason === 'silence' ? 'caller-silent' : 'max-duration');
      },
    });
  }

  // ── 1. Start: the stream is authenticated; open the model session and greet. ─────────────────────

  start(): void {
    this.log.info({ from: redact(this.info.from), to: redact(this.info.to), direction: this.info.direction }, 'call started');
    this.notify({ type: 'started', callSid: this.callSid });
    this.stream.attach({
      onMessage: (message) => this.onTwilioMessage(message),
      onEnd: (reason, detail) => this.onStreamEnd(reason, detail),
    });
    const early = this.deps.early;
    if (early !== undefined) {
      this.log.info({ openedBeforeStreamMs: this.startedAtMs - early.openedAtMs }, 'using the Gemini session opened at the webhook');
      early.relay.attach((event) => this.onModelEvent(event)); // the greeting may be waiting already
    }
    void this.connectModel();
  }

  private async connectModel(): Promise<void> {
    try {
      // Caller audio that arrives during setup is held by the conversation and sent once it is ready.
      if (this.deps.early !== undefined) {
        await this.deps.early.ready; // set up at the webhook, greeting already cued
      } else {
        await this.conversation.start();
        if (this.ended) return;
        this.log.info({ setupMs: Date.now() - this.startedAtMs, model: this.deps.gemini.model }, 'Gemini Live session ready');
        this.conversation.sendText(isOutboundCall(this.info) ? OUTBOUND_CALL_CUE : GREETING_CUE);
      }
      if (this.ended) return;
      this.watchdog.start();
    } catch (error) {
      this.log.error({ err: error }, 'could not open a Gemini Live session');
      this.end('model-setup-failed');
    }
  }

  // ── 2. Caller → model: every Twilio frame goes out as soon as it arrives. ────────────────────────

  private onTwilioMessage(message: TwilioInboundMessage): void {
    switch (message.event) {
      case 'media':
        this.onCallerAudio(message.media.payload, message.media.timestamp);
        return;
      case 'mark':
        this.playout.onMarkEcho(message.mark.name);
        this.recorder?.markEchoed(message.mark.name);
        return;
      case 'dtmf':
        this.tools.onKeypadDigit(message.dtmf.digit);
        this.recorder?.keypad(message.dtmf.digit);
        return;
      case 'stop':
        return; // the stream reports its end through onStreamEnd
      case 'connected':
      case 'start':
        this.log.warn({ event: message.event }, 'ignored a repeated handshake message');
        return;
    }
  }

  private onCallerAudio(mulawBase64: string, timestampMs: number): void {
    const bytes = base64DecodedBytes(mulawBase64);
    // The phone leg may skip silent stretches; the model's voice detection needs continuous time.
    if (this.nextCallerTimestampMs !== undefined && timestampMs - this.nextCallerTimestampMs >= FRAME_MS) {
      this.fillCallerGap(timestampMs - this.nextCallerTimestampMs);
    }
    this.nextCallerTimestampMs = timestampMs + bytes / MULAW_BYTES_PER_MS;
    this.callerAudioBytes += bytes;
    this.conversation.sendAudio(this.callerAudio.convert(mulawBase64));
    this.recorder?.callerAudio(mulawBase64, timestampMs);
    const speech = this.callerSpeech.pushBase64(mulawBase64);
    if (speech === 'ended') this.callerSpeechEndedAtMs = Date.now() - this.callerSpeech.endDelayMs;
    if (speech === 'started') this.watchdog.callerSpeechStarted();
    else if (speech === 'ended') this.watchdog.callerSpeechEnded();
  }

  private fillCallerGap(gapMs: number): void {
    const frames = Math.round(Math.min(gapMs, MAX_GAP_FILL_MS) / FRAME_MS);
    for (let i = 0; i < frames; i++) this.conversation.sendAudio(this.callerAudio.convert(SILENT_FRAME_BASE64));
    this.gapFilledMs += frames * FRAME_MS;
  }

  // ── 3. Model → caller: agent audio, transcripts and turn boundaries. ────────────────────────────

  private onModelEvent(event: ConversationEvent): void {
    if (this.ended) return;
    this.recorder?.modelEvent(event);
    switch (event.type) {
      case 'audio':
        if (this.droppingInterruptedTurn) return;
        this.watchdog.agentActive();
        this.firstAgentAudioAtMs ??= Date.now();
        if (this.callerSpeechEndedAtMs !== undefined) {
          this.notify({ type: 'latency', responseMs: Date.now() - this.callerSpeechEndedAtMs });
          this.callerSpeechEndedAtMs = undefined;
        }
        this.playout.push(this.agentAudio.convert(event.pcm24kBase64));
        return;
      case 'interrupted':
        this.onBargeIn();
        return;
      case 'generationComplete':
        if (!this.droppingInterruptedTurn) this.playout.finishTurn();
        return;
      case 'turnComplete':
        this.onTurnComplete(event.reason);
        return;
      case 'inputTranscript':
        this.callerTranscript += event.text;
        this.notify({ type: 'transcript', speaker: 'caller', text: event.text });
        return;
      case 'outputTranscript':
        this.agentTranscript += event.text;
        this.notify({ type: 'transcript', speaker: 'agent', text: event.text });
        return;
      case 'toolCall':
        this.watchdog.agentActive();
        this.tools.onToolCall(event.calls);
        return;
      case 'toolCallCancellation':
        this.tools.onToolCallCancellation(event.ids);
        return;
      case 'sessionSwitched':
        this.onSessionSwitched(event);
        return;
      case 'lost':
        this.log.error({ reason: event.reason }, 'Gemini Live could not be recovered; apologising and ending the call');
        void this.tools.apologizeAndHangUp().then(() => this.end('model-lost'));
        return;
    }
  }

  private onTurnComplete(reason: string | undefined): void {
    this.watchdog.agentTurnComplete(this.droppingInterruptedTurn, this.playout.unconfirmedMs);
    const wasInterrupted = this.droppingInterruptedTurn;
    if (this.droppingInterruptedTurn) {
      this.droppingInterruptedTurn = false;
    } else {
      this.playout.finishTurn();
      this.agentTurns++;
    }
    this.agentAudio.reset();
    if (this.callerTranscript !== '') this.callerTurns++;
    this.log.debug({ callerSaid: this.callerTranscript.trim(), agentSaid: this.agentTranscript.trim(), reason }, 'turn complete');
    this.callerTranscript = '';
    this.agentTranscript = '';
    this.notify({ type: 'turnComplete', interrupted: wasInterrupted });
    this.tools.onModelTurnComplete();
  }

  // ── 4. Barge-in: the caller talked over the agent. ──────────────────────────────────────────────

  private onBargeIn(): void {
    const heard = this.playout.interrupt(); // sends Twilio `clear` first thing
    this.agentAudio.reset();
    this.droppingInterruptedTurn = true;
    this.interruptions++;
    this.agentTurns++;
    this.log.info(
      { turn: heard.turn, sentMs: Math.round(heard.sentMs), heardMs: Math.round(heard.heardMs), agentSaid: this.agentTranscript.trim() },
      'caller interrupted the agent',
    );
    this.notify({ type: 'interrupted', turn: heard.turn, sentMs: Math.round(heard.sentMs), heardMs: Math.round(heard.heardMs) });
  }

  // ── 5. End: whichever side goes first, the other is closed at once. ─────────────────────────────

  private onStreamEnd(reason: StreamEndReason, detail: string): void {
    if (reason !== 'closed-by-us') this.log.info({ reason, detail }, 'media stream ended');
    // Twilio also sends `stop` when our own REST hang-up or transfer takes effect.
    const stopReason = this.tools.endReasonInProgress ?? 'caller-hung-up';
    this.end(reason === 'stop' ? stopReason : reason === 'closed-by-us' ? this.endReason : `stream-${reason}`);
  }

  /** A new Live session took over. After a failure, whatever turn was playing has ended with it. */
  private onSessionSwitched(event: Extract<ConversationEvent, { type: 'sessionSwitched' }>): void {
    const { type: _, ...details } = event;
    this.log.info(details, 'continuing on a new Gemini Live session');
    this.tools.onModelSessionSwitched(event.reason !== 'goAway');
    if (event.reason !== 'goAway') {
      this.playout.finishTurn();
      this.agentAudio.reset();
      this.droppingInterruptedTurn = false;
    }
  }

  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    this.tools.dispose();
    this.watchdog.dispose();
    this.conversation.close();
    this.stream.close(reason);
    const summary = this.summary();
    this.log.info(summary, 'call ended');
    this.recorder?.finish(summary);
    this.notify({ type: 'ended', reason, summary: { ...summary } });
    this.deps.onEnded(this);
  }

  /** Tells the call's observer, if any; watching a call must never break it. */
  private notify(event: CallEvent): void {
    if (this.deps.observer === undefined) return;
    try {
      this.deps.observer.onCallEvent(event);
    } catch (error) {
      this.log.warn({ err: error, event: event.type }, 'call observer failed');
    }
  }

  summary(): CallSummary {
    const playback = this.playout.totals;
    return {
      endReason: this.endReason,
      durationMs: Date.now() - this.startedAtMs,
      callerAudioSeconds: round2(this.callerAudioBytes / MULAW_BYTES_PER_MS / 1000),
      agentAudioSentSeconds: round2(playback.sentMs / 1000),
      agentAudioHeardSeconds: round2(playback.heardMs / 1000),
      interruptions: this.interruptions,
      agentTurns: this.agentTurns,
      callerTurns: this.callerTurns,
      streamStartToFirstAgentAudioMs: this.firstAgentAudioAtMs === undefined ? undefined : this.firstAgentAudioAtMs - this.startedAtMs,
      callerGapFilledSeconds: round2(this.gapFilledMs / 1000),
      liveSessions: this.conversation.stats.sessions,
      handovers: this.conversation.stats.handovers,
      reconnects: this.conversation.stats.reconnects,
      ...this.watchdog.stats,
      greetingPrepared: this.deps.early !== undefined,
    };
  }
}

function redact(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redactPhoneNumber(value);
}

function base64DecodedBytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
