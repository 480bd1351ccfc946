import type { CallAgent } from '../agents/agent-directory.js';
import { MULAW_BYTES_PER_MS, TWILIO_FRAME_BYTES } from '../audio/format.js';
import { agentAudioConverter, bytesPerMs, callerAudioConverter, type AgentAudioConverter, type CallerAudioConverter } from '../audio/model-audio.js';
import { MULAW_SILENCE_BYTE } from '../audio/mulaw.js';
import { SpeechDetector } from '../audio/speech-detector.js';
import type { CallLimits } from '../settings/config.js';
import { callCost } from '../costs/call-cost.js';
import type { CallRates } from '../costs/prices.js';
import { UsageMeter } from '../costs/usage-meter.js';
import type { ConversationEvent, ModelCapabilities, RealtimeConversation, RealtimeModel } from '../model/realtime-model.js';
import { CallEventStream, type CallEvent, type CallEventListener, type CallSummary } from '../observability/call-events.js';
import type { Logger } from '../observability/logger.js';
import { describeFailure } from '../observability/redact.js';
import type { CallDetails } from '../domain/call-details.js';
import type { EndReason } from '../domain/end-reasons.js';
import type { TwilioAnsweredBy } from '../domain/answered-by.js';
import { OutboundOpening } from '../outbound/outbound-opening.js';
import type { PlayoutSink, StreamEndReason, TwilioMediaStream } from '../telephony/media-stream-connection.js';
import type { TwilioInboundMessage } from '../telephony/media-stream-protocol.js';
import type { CallControl } from '../telephony/twilio-rest.js';
import type { VadService } from '../turn-detection/vad-service.js';
import { AgentPlayout } from './agent-playout.js';
import { AgentTurn, type TurnEnd } from './agent-turn.js';
import { AnswerHealth, type AnswerRecovery } from './answer-health.js';
import { CallerTimeline } from './caller-timeline.js';
import { CallTools, VOICEMAIL_WATCHDOG_MS, type WarmTransfers } from './call-tools.js';
import { ConversationWatchdog } from './conversation-watchdog.js';
import type { EarlyConversation } from './early-conversations.js';
import { LocalTurnTaking } from './local-turn-taking.js';

export type { CallSummary } from '../observability/call-events.js';

const SILENT_FRAME = new Uint8Array(TWILIO_FRAME_BYTES).fill(MULAW_SILENCE_BYTE);

export interface CallDeps {
  /** The agent answering: its tools, cues and model settings. */
  agent: CallAgent;
  model: RealtimeModel;
  log: Logger;
  /** Ends or transfers the call through Twilio's REST API (or the browser phone's stand-in). */
  callControl: CallControl;
  /** Warm transfers, for a Twilio call. */
  warmTransfers?: WarmTransfers;
  /** This stream brings the caller back from a warm transfer nobody took: why (the agent offers to take a message). */
  transferNotTaken?: string;
  toolTimeoutMs: number;
  limits: CallLimits;
  /** What the call's tokens and minutes cost (src/costs/prices.ts). */
  rates: CallRates;
  /** Subscribers to the call's events: recorder, browser phone page, logs, metrics, the agent's hooks. */
  listeners: readonly CallEventListener[];
  onEnded: (call: PhoneCall, reason: EndReason) => void;
  /** The conversation opened at the webhook (instant greeting), when there is one. */
  early?: EarlyConversation;
  /** Continue the conversation another instance (or an earlier stream) had: its latest resumption handle. */
  resumptionHandle?: string;
  /** Where each new resumption handle goes (the shared call state, so another instance can take over). */
  onResumptionHandle?: (handle: string) => void;
  /** The process's neural VAD, for agents that detect turns locally with it (loaded at start-up). */
  vad?: VadService;
}

/**
 * One phone call, from an authenticated media stream to hang-up. Reads top to bottom:
 * start → caller audio to the model → model events to the caller → barge-in → end and summary.
 * Everything that happens is published on the call's event stream; the call itself only talks to the
 * caller's stream, the model and the tools.
 */
export class PhoneCall {
  readonly callSid: string;
  private readonly log: Logger;
  private readonly events: CallEventStream;
  private readonly startedAtMs = Date.now();
  /** The phone's mu-law to the model's input format, and the model's output back (what the model declares). */
  private readonly callerAudio: CallerAudioConverter;
  private readonly agentAudio: AgentAudioConverter;
  private readonly agentAudioBytesPerMs: number;
  /** What the call may ask of the agent's model. */
  private readonly modelCapabilities: ModelCapabilities;
  private readonly playout: AgentPlayout;
  /** The model side: one or more connections over the call's life (handover, reconnects). */
  private readonly conversation: RealtimeConversation;
  private readonly tools: CallTools;
  /** Notices dead air: a model that does not answer, a caller who went quiet, a call that runs too long. */
  private readonly watchdog: ConversationWatchdog;
  private readonly callerSpeech = new SpeechDetector();
  /** When this service detects the caller's turns (the agent's turnDetection 'local'): it does, and tells the model. */
  private readonly localTurns: LocalTurnTaking | undefined;
  /** A call we placed, from its answer to its conversation: who answered, and when the agent may speak. */
  private readonly opening: OutboundOpening | undefined;
  private watchdogStarted = false;
  private twilioRecording: { sid: string; url: string } | undefined;
  /** The model's usage reports, added up for the summary's tokens and cost. */
  private readonly usage: UsageMeter;
  private ended = false;
  /** Why, when the call ended on a failure: shown to the browser phone's page. */
  private endDetail: string | undefined;

  // What the call summary reports.
  private callerAudioBytes = 0;
  /**
   * Fills holes in the caller's audio, and its absence after the last words, with silence; holds it all to the wall
   * clock since the stream started (caller-timeline.ts).
   */
  private readonly callerTimeline: CallerTimeline;
  private interruptions = 0;
  private agentTurns = 0;
  private callerTurns = 0;
  private firstAgentAudioAtMs: number | undefined;
  /** Which generation agent audio belongs to, and when the agent's turn ended (see agent-turn.ts). */
  private readonly agentTurn = new AgentTurn();
  /** Answers the caller cannot hear, and turns the model declined (answer-health.ts). */
  private readonly answerHealth = new AnswerHealth();
  private agentTurnOpen = false;
  private callerTranscript = '';
  /** When the caller last stopped talking, until the agent's next audio: the response latency's start. */
  private callerSpeechEndedAtMs: number | undefined;
  private agentTranscript = '';

  constructor(
    private readonly stream: TwilioMediaStream,
    readonly details: CallDetails,
    private readonly deps: CallDeps,
  ) {
    this.callSid = details.callSid;
    this.callerTimeline = new CallerTimeline((frames) => this.sendCallerSilence(frames), () => performance.now(), stream.startedAtMs);
    this.log = deps.log.child({ callSid: this.callSid, streamSid: stream.streamSid, agent: details.agent });
    this.events = new CallEventStream((error, event) => this.log.warn({ err: error, event: event.type }, 'a call event listener failed'));
    for (const listener of deps.listeners) this.events.subscribe(listener);
    const agent = deps.agent.agent;
    this.callerAudio = callerAudioConverter(deps.model.audio.input);
    this.agentAudio = agentAudioConverter(deps.model.audio.output);
    this.agentAudioBytesPerMs = bytesPerMs(deps.model.audio.output);
    this.modelCapabilities = deps.model.capabilities(deps.agent.modelName);
    this.usage = new UsageMeter(this.modelCapabilities.usageReporting);
    const localTurnTaking = deps.agent.turnTaking.local;
    this.playout = new AgentPlayout(this.publishingSink(stream), () => this.tools.onAgentAudioPlayed(), { resumable: localTurnTaking !== undefined });
    // An early conversation's events reach onModelEvent once start() has wired the stream.
    this.conversation =
      deps.early?.conversation ??
      deps.model.conversation(() => deps.agent.conversationSettings(details), {
        log: this.log,
        onEvent: (event) => this.onModelEvent(event),
        ...(deps.resumptionHandle === undefined ? {} : { resumptionHandle: deps.resumptionHandle }),
        ...(deps.onResumptionHandle === undefined ? {} : { onResumptionHandle: deps.onResumptionHandle }),
      });
    this.localTurns =
      localTurnTaking === undefined
        ? undefined
        : new LocalTurnTaking({
            turnTaking: localTurnTaking,
            vad: deps.vad,
            conversation: this.conversation,
            modelInput: deps.model.audio.input,
            playout: this.playout,
            hooks: {
              callerSpeechStarted: () => this.callerSpeechStarted(),
              callerSpeechEnded: (silenceMs) => this.callerSpeechEnded(silenceMs),
              cutAgent: () => this.cutAgent(),
            },
          });
    this.tools = new CallTools({
      call: details,
      cues: agent.cues,
      language: agent.language,
      registry: deps.agent.tools,
      callControl: deps.callControl,
      ...(deps.warmTransfers === undefined ? {} : { warmTransfers: deps.warmTransfers }),
      toolTimeoutMs: deps.toolTimeoutMs,
      log: this.log,
      model: this.conversation,
      agentAudioPending: () => this.playout.unconfirmedMs > 0,
      endCall: (reason) => this.end(reason),
      publish: (event) => this.publish(event),
    });
    this.watchdog = new ConversationWatchdog(
      deps.limits,
      {
        cue: (text) => this.sendText(text),
        // Without resumption a fresh connection would forget the call: the cue is all the watchdog can do.
        resumeSession: () => {
          if (this.modelCapabilities.sessionResumption) this.conversation.reconnect('stall');
        },
        hangUpAfterGoodbye: (cue, reason) => {
          this.log.info({ reason }, 'ending the call after a goodbye');
          this.tools.hangUpAfterGoodbye(cue, reason === 'silence' ? 'caller-silent' : 'max-duration');
        },
      },
      agent.cues,
    );
    // A call resumed (failover, back from a transfer) has had its opening already.
    this.opening = details.direction === 'outbound' && deps.resumptionHandle === undefined ? this.openOutbound() : undefined;
  }

  // ── 1. Start: the stream is authenticated; open the model session and greet. ─────────────────────

  start(): void {
    this.publish({ type: 'started', call: this.details, streamSid: this.stream.streamSid });
    this.stream.attach({
      onMessage: (message) => this.onTwilioMessage(message),
      onEnd: (reason, detail) => this.onStreamEnd(reason, detail),
    });
    const early = this.deps.early;
    if (early !== undefined) {
      this.log.info({ openedBeforeStreamMs: this.startedAtMs - early.openedAtMs }, 'using the model session opened at the webhook');
      this.publish({ type: 'textToModel', text: early.greeting });
      early.relay.attach((event) => this.onModelEvent(event)); // the greeting may be waiting already
    }
    void this.connectModel();
  }

  private async connectModel(): Promise<void> {
    try {
      // Caller audio that arrives during setup is held by the conversation and sent once it is ready.
      if (this.deps.early !== undefined) {
        await this.deps.early.ready; // set up at the webhook, greeting already cued
        const { openedAtMs, readyAtMs } = this.deps.early;
        this.publish({ type: 'modelReady', setupMs: (readyAtMs ?? Date.now()) - openedAtMs, early: true, resumed: false });
      } else {
        await this.conversation.start();
        if (this.ended) return;
        const setupMs = Date.now() - this.startedAtMs;
        this.log.info({ setupMs, resumed: this.deps.resumptionHandle !== undefined }, 'model session ready');
        this.publish({ type: 'modelReady', setupMs, early: false, resumed: this.deps.resumptionHandle !== undefined });
        // A call resumed from another instance's session carries on the conversation: no second greeting. A call we
        // placed waits for its callee (the opening sends the introduction).
        if (this.deps.transferNotTaken !== undefined) this.sendText(this.deps.agent.agent.cues.transferNotTaken.replace('{outcome}', this.deps.transferNotTaken));
        else if (this.deps.resumptionHandle === undefined && this.opening === undefined) this.sendText(this.deps.agent.agent.greeting.inbound);
      }
      if (this.ended) return;
      if (this.opening === undefined) this.startWatchdog();
    } catch (error) {
      this.log.error({ err: error }, 'could not open a model session');
      this.endDetail = `could not open a model session: ${describeFailure(error)}`;
      this.end('model-setup-failed');
    }
  }

  // ── 2. Caller → model: every Twilio frame goes out as soon as it arrives. ────────────────────────

  private onTwilioMessage(message: TwilioInboundMessage): void {
    switch (message.event) {
      case 'media':
        this.onCallerAudio(message.media.audio, message.media.timestamp);
        return;
      case 'mark':
        this.playout.onMarkEcho(message.mark.name);
        if (this.events.wants('agentAudioHeard')) this.publish({ type: 'agentAudioHeard', mark: message.mark.name });
        return;
      case 'dtmf':
        this.publish({ type: 'keypad', digit: message.dtmf.digit });
        this.tools.onKeypadDigit(message.dtmf.digit);
        return;
      case 'stop':
        return; // the stream reports its end through onStreamEnd
      case 'connected':
      case 'start':
        this.log.warn({ event: message.event }, 'ignored a repeated handshake message');
        return;
    }
  }

  private onCallerAudio(mulaw: Uint8Array, timestampMs: number): void {
    // The phone leg may skip silent stretches; the model's voice detection needs continuous time. Audio faster
    // than the wall clock allows is no phone line's: dropped, and a stream that keeps at it is hung up.
    const forward = this.callerTimeline.frame(timestampMs, mulaw.length / MULAW_BYTES_PER_MS);
    if (this.callerTimeline.violating) {
      this.log.warn(this.callerTimeline.policed, 'hanging up a media stream that sends more audio than real time allows');
      this.end('caller-audio-over-real-time', 1008);
      return;
    }
    if (!forward) return;
    this.callerAudioBytes += mulaw.length;
    // A call we placed: the opening listens too, and may have the model hear silence (the agent's first sentence).
    const toModel = this.opening === undefined ? mulaw : this.opening.calleeFrame(mulaw);
    if (this.ended) return;
    this.conversation.sendAudio(this.callerAudio.convert(toModel));
    // Per-frame events are built only for a listener that reads them (the recorder, an agent's onCallEvent).
    if (this.events.wants('callerAudio')) this.publish({ type: 'callerAudio', mulaw, timestampMs });
    // Local turn detection decides when the caller speaks (and reports it back); else the energy detector says.
    if (this.localTurns !== undefined) return this.localTurns.callerAudio(toModel);
    const speech = this.callerSpeech.push(mulaw);
    if (speech === 'started') this.callerSpeechStarted(this.callerSpeech.startDelayMs);
    else if (speech === 'ended') this.callerSpeechEnded(this.callerSpeech.endDelayMs);
  }

  /** While the opening of a call we placed holds the agent, nobody is owed a reply: the watchdog does not hear the callee. */
  private get watchdogHearsCaller(): boolean {
    return this.opening?.holding !== true;
  }

  /** The caller started talking (`delayMs` ago, when the detector knows). */
  private callerSpeechStarted(delayMs?: number): void {
    this.publish({ type: 'callerSpeechStarted', ...(delayMs === undefined ? {} : { delayMs }) });
    if (this.watchdogHearsCaller) this.watchdog.callerSpeechStarted();
  }

  /** The caller stopped talking `silenceMs` ago. */
  private callerSpeechEnded(silenceMs: number): void {
    this.callerSpeechEndedAtMs = Date.now() - silenceMs;
    this.agentTurn.callerSpeechEnded(Date.now());
    this.publish({ type: 'callerSpeechEnded', delayMs: silenceMs });
    if (this.watchdogHearsCaller) this.watchdog.callerSpeechEnded();
  }

  private sendCallerSilence(frames: number): void {
    if (this.ended) return;
    for (let i = 0; i < frames; i++) {
      this.conversation.sendAudio(this.callerAudio.convert(SILENT_FRAME));
      this.localTurns?.callerAudio(SILENT_FRAME);
    }
  }

  // ── 3. Model → caller: agent audio, transcripts and turn boundaries. ────────────────────────────

  private onModelEvent(event: ConversationEvent): void {
    if (this.ended) return;
    switch (event.type) {
      case 'audio': {
        const durationMs = event.audio.length / this.agentAudioBytesPerMs;
        const decision = this.agentTurn.audio(Date.now(), durationMs);
        if (decision.play && decision.ended !== undefined) this.onTurnEnded(decision.ended, undefined);
        if (!decision.play) return; // the rest of a generation the caller cut
        if (!this.heard(this.agentTurn.latestGeneration)) return; // made while the opening held the agent
        this.opening?.agentAudio(this.agentTurn.latestGeneration, durationMs);
        this.openAgentTurn();
        this.watchdog.agentActive();
        this.firstAgentAudioAtMs ??= Date.now();
        if (this.callerSpeechEndedAtMs !== undefined) {
          this.publish({ type: 'latency', responseMs: Date.now() - this.callerSpeechEndedAtMs });
          this.callerSpeechEndedAtMs = undefined;
        }
        const mulaw = this.agentAudio.convert(event.audio);
        this.answerHealth.audio(mulaw);
        this.playout.push(mulaw);
        return;
      }
      case 'interrupted': {
        const decision = this.agentTurn.interrupted(Date.now());
        if (!decision.bargeIn) this.log.info({ reason: decision.reason }, 'ignored an interrupted that cut nothing');
        else if (this.heard(this.agentTurn.latestGeneration)) this.onBargeIn();
        return;
      }
      case 'generationComplete': {
        const ended = this.agentTurn.generationComplete();
        if (ended !== undefined) this.onTurnEnded(ended, undefined);
        return;
      }
      case 'turnComplete': {
        const ended = this.agentTurn.turnComplete();
        if (ended !== undefined) this.onTurnEnded(ended, event.detail);
        if (event.rejected === true) this.onRejectedTurn(event.detail);
        return;
      }
      case 'inputTranscript':
        this.callerTranscript += event.text;
        this.publish({ type: 'transcript', speaker: 'caller', text: event.text });
        this.opening?.calleeSaid(event.text);
        return;
      case 'outputTranscript':
        if (this.agentTurn.cutInProgress || !this.heard(this.agentTurn.latestGeneration)) return;
        this.opening?.agentSaid(this.agentTurn.latestGeneration, event.text);
        this.openAgentTurn();
        this.agentTranscript += event.text;
        this.publish({ type: 'transcript', speaker: 'agent', text: event.text });
        return;
      case 'toolCall': {
        const ended = this.agentTurn.toolCall();
        if (ended !== undefined) this.onTurnEnded(ended, undefined);
        if (!this.heard(this.agentTurn.latestGeneration)) {
          this.tools.refuse(event.calls, 'The call has not started yet.', 'Wait for the instruction that tells you who answered, then call the tool again if it is still needed.');
          return;
        }
        this.watchdog.agentActive();
        this.tools.onToolCall(event.calls);
        return;
      }
      case 'toolCallCancellation':
        this.tools.onToolCallCancellation(event.ids);
        return;
      case 'usage':
        this.usage.add(event.usage);
        this.publish(event);
        return;
      case 'sessionSwitched':
        this.onSessionSwitched(event);
        return;
      case 'lost':
        this.log.error({ reason: event.reason }, 'the model could not be recovered; apologising and ending the call');
        this.publish({ type: 'modelLost', reason: event.reason });
        void this.tools.apologizeAndHangUp().then(() => this.end('model-lost'));
        return;
    }
  }

  private openAgentTurn(): void {
    if (this.agentTurnOpen) return;
    this.agentTurnOpen = true;
    this.agentTurns++;
    this.publish({ type: 'agentTurnStarted', turn: this.agentTurns });
  }

  /**
   * The agent's turn ended, once per turn, whichever of generationComplete / turnComplete the model sent (or
   * the next generation, for a cut turn the model never closed). Ending the call after a goodbye, the stall
   * watchdog, turn counting and the recording all hang on this one moment.
   */
  private onTurnEnded(end: TurnEnd, reason: string | undefined): void {
    if (this.opening?.agentTurnEnded(end.generation) === true) {
      this.log.debug({ generation: end.generation, by: end.by }, 'a model turn made while the agent was held ended, unheard');
      return;
    }
    this.watchdog.agentTurnComplete(end.interrupted, this.playout.unconfirmedMs);
    if (!end.interrupted) this.playout.finishTurn();
    if (this.agentTurnOpen && !end.interrupted) this.publish({ type: 'agentTurnEnded', turn: this.agentTurns, interrupted: false });
    this.agentTurnOpen = false;
    this.agentAudio.reset();
    if (this.callerTranscript !== '') this.callerTurns++;
    this.log.debug({ reason, by: end.by, interrupted: end.interrupted, hadContent: end.hadContent }, 'agent turn ended');
    this.callerTranscript = '';
    this.agentTranscript = '';
    this.tools.onModelTurnComplete();
    if (this.answerHealth.turnEnded(end.interrupted) === 'inaudibleAnswer') this.recoverUnheardAnswer('inaudibleAnswer');
  }

  /** The model declined to answer; a single refusal is the watchdog's empty turn, a run of them is recovered. */
  private onRejectedTurn(detail: string | undefined): void {
    this.log.warn({ detail }, 'the model declined to answer this turn');
    if (this.answerHealth.rejected() === 'rejectedTurns') this.recoverUnheardAnswer('rejectedTurns');
  }

  /**
   * The caller heard nothing of what the model thinks it said (or it keeps declining): continue on a fresh
   * connection resumed from the latest handle, and cue the model to say it again (answer-health.ts).
   */
  private recoverUnheardAnswer(why: AnswerRecovery): void {
    this.log.warn({ why }, why === 'inaudibleAnswer' ? 'the agent\'s answer was too quiet to hear: reconnecting and asking again' : 'the model declined several turns in a row: reconnecting and asking again');
    if (this.modelCapabilities.sessionResumption) this.conversation.reconnect(why);
    this.sendText(this.deps.agent.agent.cues.unheardAnswer);
  }

  // ── 4. Barge-in: the caller talked over the agent. ──────────────────────────────────────────────

  /** Local turn detection: the caller talked over the agent long enough; the call cuts it before the model knows. */
  private cutAgent(): void {
    this.agentTurn.cut(Date.now());
    this.onBargeIn();
  }

  private onBargeIn(): void {
    this.interruptions++;
    this.cutAgentTurn(true);
  }

  /** Drops what the caller has not heard of the agent's turn (Twilio `clear`); `bargeIn`: the caller cut it. */
  private cutAgentTurn(bargeIn = false): void {
    const heard = this.playout.interrupt(); // sends Twilio `clear` first thing
    this.agentAudio.reset();
    if (bargeIn) this.publish({ type: 'bargeIn', turn: this.agentTurns, sentMs: Math.round(heard.sentMs), heardMs: Math.round(heard.heardMs), heardText: this.agentTranscript.trim() });
    if (this.agentTurnOpen) this.publish({ type: 'agentTurnEnded', turn: this.agentTurns, interrupted: true });
    this.agentTurnOpen = false;
  }

  // ── 5. End: whichever side goes first, the other is closed at once. ─────────────────────────────

  private onStreamEnd(reason: StreamEndReason, detail: string): void {
    if (reason === 'closed-by-us') return; // end() closed it, and knows why
    this.log.info({ reason, detail }, 'media stream ended');
    // Twilio also sends `stop` when our own REST hang-up or transfer takes effect.
    this.end(reason === 'stop' ? (this.tools.endReasonInProgress ?? 'caller-hung-up') : STREAM_ENDED[reason]);
  }

  /** A new model session took over. After a failure, whatever turn was playing has ended with it. */
  private onSessionSwitched(event: Extract<ConversationEvent, { type: 'sessionSwitched' }>): void {
    const { type: _, ...details } = event;
    this.publish({ type: 'sessionSwitched', ...details });
    this.tools.onModelSessionSwitched(event.reason !== 'handover');
    if (event.reason !== 'handover') {
      this.playout.finishTurn();
      this.agentAudio.reset();
      this.agentTurn.reset();
      this.agentTurnOpen = false;
    }
  }

  /** Ends the call; `closeCode` 1008 tells the peer it was hung up for what it sent. */
  end(reason: EndReason, closeCode: 1000 | 1008 = 1000): void {
    if (this.ended) return;
    this.ended = true;
    this.tools.dispose();
    this.watchdog.dispose();
    this.callerTimeline.dispose();
    this.localTurns?.close();
    this.conversation.close();
    this.stream.close(reason, closeCode);
    this.publish({ type: 'ended', reason, ...(this.endDetail === undefined ? {} : { detail: this.endDetail }), summary: this.summary(reason) });
    this.deps.onEnded(this, reason);
  }

  private sendText(text: string): void {
    this.publish({ type: 'textToModel', text });
    this.conversation.sendText(text);
  }

  private publish(event: CallEvent): void {
    this.events.publish(event);
  }

  /** Where the playout writes: the caller's stream, with each frame, mark and clear published as it goes. */
  private publishingSink(stream: PlayoutSink): PlayoutSink {
    return {
      sendMedia: (mulaw) => {
        stream.sendMedia(mulaw);
        this.localTurns?.agentAudioSent(mulaw);
        if (this.events.wants('agentAudioSent')) this.publish({ type: 'agentAudioSent', mulaw, turn: this.agentTurns });
      },
      sendMark: (name) => {
        stream.sendMark(name);
        if (this.events.wants('markSent')) this.publish({ type: 'markSent', name });
      },
      sendClear: () => {
        stream.sendClear();
        this.localTurns?.agentAudioCleared();
        this.publish({ type: 'cleared' });
      },
    };
  }

  /** Twilio's answering-machine verdict for this call (its AMD status callback). */
  onTwilioAnsweredBy(answeredBy: TwilioAnsweredBy): void {
    if (this.ended) return;
    if (this.opening === undefined) this.publish({ type: 'calleeSignal', signal: 'twilio', value: answeredBy, atMs: performance.now() - this.stream.startedAtMs, ignored: true });
    else this.opening.twilioAnsweredBy(answeredBy);
  }

  /** Twilio records this call: where its recording will be, for the summary. */
  onTwilioRecording(recording: { sid: string; url: string }): void {
    if (this.ended) return;
    this.twilioRecording = recording;
    this.publish({ type: 'twilioRecording', ...recording });
  }

  /** Whether the model's output of `generation` reaches the caller (an outbound call's opening may hold it back). */
  private heard(generation: number): boolean {
    return this.opening === undefined || this.opening.plays(generation);
  }

  private startWatchdog(): void {
    if (this.watchdogStarted) return;
    this.watchdogStarted = true;
    this.watchdog.start();
  }

  /** The opening of a call we placed: what it may do to the call (src/outbound/outbound-opening.ts). */
  private openOutbound(): OutboundOpening {
    const agent = this.deps.agent.agent;
    return new OutboundOpening(
      {
        sendText: (text) => this.sendText(text),
        released: () => this.startWatchdog(),
        cutAgentTurn: () => this.cutAgentTurn(),
        leaveVoicemail: (cue) => this.tools.hangUpAfterGoodbye(cue, 'voicemail-left', VOICEMAIL_WATCHDOG_MS),
        hangUp: (reason) => this.tools.hangUpNow(reason),
        publish: (event) => this.publish(event),
        latestGeneration: () => this.agentTurn.latestGeneration,
      },
      { introduction: agent.greeting.outbound, cues: agent.cues, voicemail: agent.voicemail, startedAtMs: this.stream.startedAtMs },
    );
  }

  private summary(endReason: EndReason): CallSummary {
    const base = this.summaryFigures(endReason);
    const audio = { toModel: base.callerAudioSeconds + base.callerGapFilledSeconds, fromModel: base.agentAudioSentSeconds };
    const tokens = this.usage.tokens(audio, this.deps.rates.audioTokensPerSecond);
    return { ...base, tokens, cost: callCost(tokens, base.durationMs, this.deps.rates) };
  }

  private summaryFigures(endReason: EndReason): Omit<CallSummary, 'tokens' | 'cost'> {
    const playback = this.playout.totals;
    return {
      agent: this.details.agent,
      direction: this.details.direction,
      endReason,
      durationMs: Date.now() - this.startedAtMs,
      callerAudioSeconds: round2(this.callerAudioBytes / MULAW_BYTES_PER_MS / 1000),
      agentAudioSentSeconds: round2(playback.sentMs / 1000),
      agentAudioHeardSeconds: round2(playback.heardMs / 1000),
      interruptions: this.interruptions,
      agentTurns: this.agentTurns,
      callerTurns: this.callerTurns,
      streamStartToFirstAgentAudioMs: this.firstAgentAudioAtMs === undefined ? undefined : this.firstAgentAudioAtMs - this.startedAtMs,
      callerGapFilledSeconds: round2(this.callerTimeline.filledMs / 1000),
      callerAudioDroppedSeconds: round2(this.callerTimeline.policed.droppedMs / 1000),
      callerGapRefusedSeconds: round2(this.callerTimeline.policed.refusedSilenceMs / 1000),
      modelConnections: this.conversation.stats.connections,
      sessionSwitches: this.conversation.stats.switches,
      ...this.watchdog.stats,
      repeatedToolCalls: this.tools.repeatedCalls,
      ...this.answerHealth.stats,
      greetingPrepared: this.deps.early !== undefined,
      ...(this.opening?.verdict === undefined ? {} : { answeredBy: this.opening.verdict }),
      ...(this.twilioRecording === undefined ? {} : { twilioRecording: this.twilioRecording }),
    };
  }
}

/** A stream that ended without `stop` and without us (a lost one may continue on a new stream: end-reasons.ts). */
const STREAM_ENDED: Record<Exclude<StreamEndReason, 'stop' | 'closed-by-us'>, EndReason> = {
  'socket-closed': 'stream-socket-closed',
  malformed: 'stream-malformed',
  'not-reading': 'stream-not-reading',
};

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
