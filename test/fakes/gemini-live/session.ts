/**
 * One BidiGenerateContent connection of the fake server: setup handshake, realtime input, energy VAD,
 * scripted model turns (audio + transcripts + tool calls), barge-in, session resumption and goAway.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { InteractionStatus, MediaModality, TurnCompleteReason } from '@google/genai';
import type { FunctionResponse, LiveClientSetup, ModalityTokenCount, Part, UsageMetadata } from '@google/genai';
import { WebSocket, type RawData } from 'ws';
import { AudioAccumulator, decodePcm16Base64, encodePcm16Base64, LinearResamplerTo16k } from './pcm.js';
import {
  DEADLINE_EXPIRED,
  formatDuration,
  INTERNAL_ERROR,
  invalidArgument,
  isRecord,
  NON_AUDIO_REQUEST,
  parseClientFrame,
  truncateCloseReason,
  type ClientMessage,
  type CloseSpec,
  type RealtimeInputEvent,
  type WireServerMessage,
} from './protocol.js';
import type {
  LiveQuirks,
  CallerTurn,
  CallerTurnSource,
  CloseInfo,
  FakeGeminiLiveOptions,
  FakeReply,
  FakeSession,
  FakeToolCall,
  ModelTurnRecord,
  ReceivedMessage,
  SentMessage,
  ToolCallRecord,
  ToolResponseRecord,
} from './types.js';
import { DEFAULT_VAD, EnergyVad, LOW_SENSITIVITY_OFFSET_DB, type VadConfig, type VadEvent } from './vad.js';
import { modelFeatureRefusal } from './model-rules.js';
import { isVertexPath, vertexModelProblem } from './vertex.js';
import { OUTPUT_SAMPLE_RATE, splitTranscript, synthesizeSpeech } from './voice.js';

/** State shared by a session and every connection that resumed it. */
export interface Conversation {
  id: number;
  turnCount: number;
  /** Context size for usageMetadata: grows with every turn, like the real prompt does. */
  promptTextTokens: number;
  promptAudioTokens: number;
}

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly options: FakeGeminiLiveOptions;
  readonly sessions: readonly FakeSession[];
  newConversation(): Conversation;
  registerHandle(handle: string, conversation: Conversation, sessionIndex: number): void;
  lookupHandle(handle: string): { conversation: Conversation; sessionIndex: number } | undefined;
  notify(): void;
}

export interface ConnectionInfo {
  index: number;
  path: string;
  apiVersion: string | undefined;
  method: 'BidiGenerateContent' | 'BidiGenerateContentConstrained';
  apiKey: string | undefined;
  headers: IncomingHttpHeaders;
}

/** ~25 tokens per second of audio (documented rate); ~4 characters per text token. */
const AUDIO_TOKENS_PER_SECOND = 25;
const textTokens = (text: string): number => Math.ceil(text.length / 4);
const audioTokens = (seconds: number): number => Math.ceil(seconds * AUDIO_TOKENS_PER_SECOND);

interface ActiveTurn {
  record: ModelTurnRecord;
  reply: FakeReply;
  audio: Int16Array;
  fragments: string[];
  fragmentsSent: number;
  phase: 'thinking' | 'toolPending' | 'streaming' | 'tail';
  pendingToolIds: Set<string>;
  /** Tool calls to emit first (already given ids). */
  toolCalls: Array<FakeToolCall & { id: string }>;
  timer: NodeJS.Timeout | undefined;
  streamStartedAt: number;
  /** Anything of this turn reached the client (decides `interrupted` vs silent cancel). */
  anythingSent: boolean;
  /** Transcript held back to ride with `generationComplete` (the `transcriptWithGenerationComplete` quirk). */
  heldTranscript?: string;
  /** Repeats of the turn's calls made so far (the `sweepsOnUninformativeToolResult` quirk). */
  sweeps: number;
}

interface TurnRequest {
  reply: FakeReply;
  origin: ModelTurnRecord['origin'];
  callerTurn?: CallerTurn;
  toolCalls?: Array<FakeToolCall & { id: string }>;
}

export class LiveSession implements FakeSession {
  readonly index: number;
  readonly path: string;
  readonly apiVersion: string | undefined;
  readonly method: 'BidiGenerateContent' | 'BidiGenerateContentConstrained';
  readonly apiKey: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly receivedAudio16k = new AudioAccumulator();
  readonly receivedMessages: ReceivedMessage[] = [];
  readonly sentMessages: SentMessage[] = [];
  readonly turns: CallerTurn[] = [];
  readonly modelTurns: ModelTurnRecord[] = [];
  readonly toolCalls: ToolCallRecord[] = [];
  readonly toolResponses: ToolResponseRecord[] = [];
  readonly issuedHandles: string[] = [];
  readonly errors: unknown[] = [];
  readonly closed: Promise<CloseInfo>;

  setup: LiveClientSetup | undefined;
  setupCompleteSent = false;
  resumedFrom: { handle: string; sessionIndex: number } | undefined;
  interruptions = 0;
  closeInfo: CloseInfo | undefined;

  private conversation: Conversation | undefined;
  readonly openedAt = performance.now();
  private resolveClosed: (info: CloseInfo) => void = () => {};
  private closing: CloseInfo | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => boolean>();
  private readonly pendingUntilReady: ClientMessage[] = [];
  private clientMessagesConsumed = 0;

  // Input side.
  private vad: EnergyVad | undefined; // undefined = manual activity mode (client sends activityStart/End)
  private resampler: LinearResamplerTo16k | undefined;
  private manualActivityStartMs: number | undefined;
  /** Where the last audio turn ended on the received-audio timeline: an `allInput` turn starts there. */
  private lastTurnEndAudioMs = 0;
  private pendingClientContentText: string[] = [];
  private initialHistoryDone = false;
  /** A caller utterance was ignored and its turn left open (the `ignoredUtterances` quirk). */
  private ignoredTurnOpen = false;

  // Output side.
  private active: ActiveTurn | undefined;
  /** One model turn at a time; later ones (say() during a turn, NO_INTERRUPTION replies) wait here. */
  private readonly waitingTurns: ActiveTurn[] = [];
  private readonly toolCallsById = new Map<string, { record: ToolCallRecord; turn: ActiveTurn | undefined }>();

  constructor(
    private readonly ws: WebSocket,
    info: ConnectionInfo,
    private readonly host: SessionHost,
  ) {
    this.index = info.index;
    this.path = info.path;
    this.apiVersion = info.apiVersion;
    this.method = info.method;
    this.apiKey = info.apiKey;
    this.headers = info.headers;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));

    ws.on('message', (data, isBinary) => this.guard(() => this.onFrame(data, isBinary)));
    ws.on('close', (code, reason) => this.guard(() => this.onClose(code, reason.toString('utf8'))));
    // Socket errors end in 'close'; listening keeps them from becoming uncaught exceptions.
    ws.on('error', () => {});

    const lifetime = host.options.connectionLifetime;
    if (lifetime) this.later(lifetime.goAwayAfterMs, () => this.sendGoAway(lifetime.timeLeftSeconds));
  }

  private get quirks(): LiveQuirks {
    return this.host.options.quirks ?? {};
  }

  // ---------------------------------------------------------------------------------------------
  // Public API for tests.

  get conversationId(): number {
    return this.conversation?.id ?? -1;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.closing === undefined;
  }

  get isModelTurnActive(): boolean {
    return this.active !== undefined;
  }

  sendGoAway(timeLeftSeconds: number): void {
    if (!this.isOpen) return;
    this.send({ goAway: { timeLeft: formatDuration(timeLeftSeconds) } });
    this.later(timeLeftSeconds * 1000, () => this.closeWith(this.quirks.goAwayCloseCode ?? 1011, DEADLINE_EXPIRED));
  }

  sendToolCall(calls: FakeToolCall[], followUp?: FakeReply): string[] {
    const withIds = calls.map((c, i) => ({ ...c, id: this.newCallId(i) }));
    this.startModelTurn({ reply: followUp ?? { text: '' }, origin: 'toolCall', toolCalls: withIds });
    return withIds.map((c) => c.id);
  }

  sendResumptionUpdate(handle?: string, resumable = true): void {
    if (!this.isOpen) return;
    if (!resumable) {
      this.send({ sessionResumptionUpdate: {} });
      return;
    }
    this.sendResumable(handle);
  }

  send(message: WireServerMessage): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.closing) return;
    this.sentMessages.push({ atMs: this.now(), message });
    // The real service sends its JSON in binary frames; clients must decode them.
    this.ws.send(Buffer.from(JSON.stringify(message), 'utf8'), { binary: true });
    this.notify();
  }

  closeWith(code: number, reason: string): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    const safeReason = truncateCloseReason(reason);
    this.closing = { code, reason: safeReason, initiatedBy: 'server' };
    this.stopAll();
    try {
      this.ws.close(code, safeReason);
    } catch {
      // A code that cannot go on the wire (e.g. 1006): all we can do is drop the socket.
      this.closing = { code: 1006, reason: '', initiatedBy: 'terminated' };
      this.ws.terminate();
    }
    this.notify();
  }

  drop(): void {
    if (this.closeInfo) return;
    this.closing = { code: 1006, reason: '', initiatedBy: 'terminated' };
    this.stopAll();
    this.ws.terminate();
  }

  say(reply: FakeReply): void {
    this.startModelTurn({ reply, origin: 'say' });
  }

  waitUntil(predicate: (session: FakeSession) => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        let done: boolean;
        try {
          done = predicate(this);
        } catch (err) {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
          return true; // a throwing predicate must not break frame handling
        }
        if (!done) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`FakeSession#${this.index}.waitUntil timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /** Called by the server on shutdown. */
  terminate(): void {
    if (!this.closeInfo && !this.closing) this.closing = { code: 1006, reason: '', initiatedBy: 'terminated' };
    this.stopAll();
    this.ws.terminate();
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing.

  private now(): number {
    return performance.now() - this.openedAt;
  }

  private notify(): void {
    for (const check of [...this.waiters]) if (check()) this.waiters.delete(check);
    this.host.notify();
  }

  /** Never let a bug or a throwing test callback crash the process: fail the session like the service would. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.errors.push(err);
      this.closeWith(1011, INTERNAL_ERROR);
    }
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.guard(fn);
    }, Math.max(0, ms));
    this.timers.add(timer);
    return timer;
  }

  private cancelTimer(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private stopAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private onClose(code: number, reason: string): void {
    this.stopAll();
    const info: CloseInfo = this.closing ?? { code, reason, initiatedBy: 'client' };
    this.closeInfo = info;
    this.resolveClosed(info);
    this.notify();
  }

  // ---------------------------------------------------------------------------------------------
  // Client frames.

  private onFrame(data: RawData, _isBinary: boolean): void {
    if (this.closing || this.closeInfo) return;
    const text = rawToString(data);
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      this.receivedMessages.push({ kind: 'invalid', atMs: this.now(), raw: text.slice(0, 2000), close: parsed.close });
      this.closeWith(parsed.close.code, parsed.close.reason);
      return;
    }
    const message = parsed.message;
    this.receivedMessages.push({ ...message, atMs: this.now() });

    if (this.setup === undefined) {
      if (message.kind !== 'setup') return this.closeWith(1007, invalidArgument().reason);
      this.setup = message.setup;
      this.onSetup(message.setup);
    } else if (message.kind === 'setup') {
      this.closeWith(1007, invalidArgument().reason); // setup is first-and-only
    } else if (!this.setupCompleteSent) {
      this.pendingUntilReady.push(message); // processed in order once setupComplete is out
    } else {
      this.dispatch(message);
    }
    this.notify();
  }

  private dispatch(message: ClientMessage): void {
    this.clientMessagesConsumed++;
    switch (message.kind) {
      case 'realtimeInput':
        return this.onRealtimeInput(message.input);
      case 'clientContent':
        return this.onClientContent(message.clientContent.turns ?? [], message.clientContent.turnComplete === true);
      case 'toolResponse':
        return this.onToolResponse(message.functionResponses);
      case 'contextUpdate':
        return; // recorded only: the fake has no prompt to update
      case 'setup':
        return; // handled in onFrame
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Setup.

  private onSetup(setup: LiveClientSetup): void {
    const rejection = this.validateSetup(setup);
    if (rejection) return this.closeWith(rejection.code, rejection.reason);

    const resumption = setup.sessionResumption;
    const handle = isRecord(resumption) && typeof resumption['handle'] === 'string' ? resumption['handle'] : '';
    if (handle !== '') {
      const found = this.host.lookupHandle(handle);
      if (!found) return this.closeWith(1007, invalidArgument().reason);
      const stillOpen = this.host.sessions.some(
        (s) => s !== this && s.conversationId === found.conversation.id && s.isOpen,
      );
      if (stillOpen && this.quirks.refuseResumeWhileOpen) return this.closeWith(1011, INTERNAL_ERROR);
      this.conversation = found.conversation;
      this.resumedFrom = { handle, sessionIndex: found.sessionIndex };
    } else {
      this.conversation = this.host.newConversation();
      this.conversation.promptTextTokens += textTokens(systemInstructionText(setup));
    }

    this.vad = this.makeVad(setup);
    const custom = this.host.options.rejectSetup?.(setup, this);
    if (custom) return this.closeWith(custom.code, custom.reason);

    const configured = this.host.options.setupDelayMs ?? 0;
    const delay = typeof configured === 'function' ? configured(this.index) : configured;
    if (delay === 'never') return; // the SDK's connect() has no timeout and will hang: that is the point
    this.later(delay, () => this.completeSetup());
  }

  private validateSetup(setup: LiveClientSetup): CloseSpec | undefined {
    const model: unknown = setup.model;
    if (typeof model !== 'string' || model === '') return invalidArgument();
    const allowed = this.host.options.models;
    if (isVertexPath(this.path)) {
      const problem = vertexModelProblem(model, allowed);
      if (problem) return problem;
    } else if (allowed && !allowed.some((m) => withModelsPrefix(m) === withModelsPrefix(model))) {
      return {
        code: 1008,
        reason: `${withModelsPrefix(model)} is not found for API version ${this.apiVersion ?? 'v1'}, or is not supported for bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.`,
      };
    }
    const generationConfig: unknown = setup.generationConfig;
    if (generationConfig !== undefined && !isRecord(generationConfig)) return invalidArgument();
    const modalities = isRecord(generationConfig) ? generationConfig['responseModalities'] : undefined;
    if (modalities !== undefined) {
      if (!Array.isArray(modalities)) return invalidArgument();
      const list: unknown[] = modalities;
      // Native-audio Live models only speak: TEXT alone is refused, and so is asking for both.
      if (!list.includes('AUDIO')) return invalidArgument(NON_AUDIO_REQUEST);
      if (list.some((m) => m !== 'AUDIO')) return invalidArgument();
    }
    const resumption: unknown = setup.sessionResumption;
    if (resumption !== undefined && !isRecord(resumption)) return invalidArgument();
    return modelFeatureRefusal(model, isVertexPath(this.path), this.apiVersion, setup);
  }

  /**
   * The automatic voice detection the setup asks for, or none: with `automaticActivityDetection.disabled` the client
   * marks the caller's activity itself (Live API guide, voice activity detection). The setup's padding, silence and
   * sensitivities tune the fake's energy detector (vad.ts says how a sensitivity maps onto it).
   */
  private makeVad(setup: LiveClientSetup): EnergyVad | undefined {
    const aad: unknown = setup.realtimeInputConfig?.automaticActivityDetection;
    if (isRecord(aad) && aad['disabled'] === true) return undefined;
    const opts = this.host.options.vad ?? {};
    const config: VadConfig = {
      thresholdDbfs: opts.thresholdDbfs ?? DEFAULT_VAD.thresholdDbfs,
      startMs: opts.startMs ?? DEFAULT_VAD.startMs,
      endSilenceMs: opts.endSilenceMs ?? DEFAULT_VAD.endSilenceMs,
    };
    if (!opts.ignoreClientConfig && isRecord(aad)) {
      if (typeof aad['prefixPaddingMs'] === 'number') config.startMs = aad['prefixPaddingMs'];
      if (typeof aad['silenceDurationMs'] === 'number' && !this.quirks.ignoresSilenceDuration) config.endSilenceMs = aad['silenceDurationMs'];
      if (aad['startOfSpeechSensitivity'] === 'START_SENSITIVITY_LOW') config.startOffsetDb = LOW_SENSITIVITY_OFFSET_DB;
      if (aad['endOfSpeechSensitivity'] === 'END_SENSITIVITY_LOW') config.endOffsetDb = LOW_SENSITIVITY_OFFSET_DB;
    }
    return new EnergyVad(config);
  }

  private completeSetup(): void {
    if (!this.isOpen) return;
    this.setupCompleteSent = true; // before send(): waiters are re-checked inside it
    this.send({ setupComplete: {} });
    for (const message of this.pendingUntilReady.splice(0)) this.dispatch(message);

    const every = this.host.options.resumptionUpdateEveryMs;
    if (every !== undefined && every > 0 && this.resumptionEnabled()) {
      const tick = (): void => {
        if (this.active) this.send({ sessionResumptionUpdate: {} });
        else this.sendResumable();
        this.later(every, tick);
      };
      this.later(every, tick);
    }
    const greeting = this.host.options.greeting;
    if (greeting && !this.resumedFrom) this.startModelTurn({ reply: greeting, origin: 'greeting' });
    // say()/sendToolCall() issued by a test before setupComplete.
    const early = this.active ? undefined : this.waitingTurns.shift();
    if (early) this.activate(early);
  }

  // ---------------------------------------------------------------------------------------------
  // Realtime input and turn detection.

  private onRealtimeInput(input: RealtimeInputEvent): void {
    switch (input.type) {
      case 'audio':
        return this.onAudio(input.data, input.sampleRate);
      case 'audioStreamEnd':
        // Flush: the client says no audio follows, so a turn in progress ends now (not with needsTrailingAudio).
        if (this.vad && !this.quirks.needsTrailingAudio) for (const e of this.vad.flush()) this.onVadEvent(e);
        return;
      case 'text':
        // Text counts as activity (barge-in) and as a complete user turn.
        this.onCallerActivity();
        return this.onCallerTurnEnd({ source: 'text', text: input.text });
      // "This can only be sent if automatic (i.e. server-side) activity detection is disabled" (ActivityStart and
      // ActivityEnd in the SDK's types and the API reference): otherwise an invalid argument, as any misused field.
      case 'activityStart':
        if (this.vad) return this.closeWith(1007, invalidArgument().reason);
        if (this.manualActivityStartMs !== undefined) return; // already open: one activity
        this.manualActivityStartMs = this.audioNowMs();
        return this.onCallerActivity();
      case 'activityEnd': {
        if (this.vad) return this.closeWith(1007, invalidArgument().reason);
        const start = this.manualActivityStartMs;
        if (start === undefined) return;
        this.manualActivityStartMs = undefined;
        return this.onCallerTurnEnd({ source: 'activity', audioStartMs: this.turnStartMs(start), audioEndMs: this.audioNowMs() });
      }
      case 'video':
      case 'empty':
        return;
    }
  }

  private onAudio(data: string, sampleRate: number): void {
    let samples = decodePcm16Base64(data);
    if (sampleRate !== 16000) {
      if (this.resampler?.inputRate !== sampleRate) this.resampler = new LinearResamplerTo16k(sampleRate);
      samples = this.resampler.process(samples);
    }
    this.receivedAudio16k.append(samples);
    if (!this.vad) return; // manual mode: turns come from activityStart/End
    for (const e of this.vad.push(samples)) this.onVadEvent(e);
  }

  private audioNowMs(): number {
    return this.receivedAudio16k.sampleCount / 16;
  }

  private onVadEvent(e: VadEvent): void {
    if (this.quirks.voiceActivity) {
      const start = e.type === 'speechStart';
      const offsetMs = start ? e.startMs : e.endMs;
      this.send({
        serverContent: {},
        voiceActivity: { voiceActivityType: start ? 'ACTIVITY_START' : 'ACTIVITY_END', audioOffset: `${(offsetMs / 1000).toFixed(3)}s` },
      });
    }
    if (e.type === 'speechStart') this.onCallerActivity();
    else this.onCallerTurnEnd({ source: 'audio', audioStartMs: this.turnStartMs(e.startMs), audioEndMs: e.endMs });
  }

  /**
   * Where a caller turn's audio starts: at its activity, or, with `turnCoverage: TURN_INCLUDES_ALL_INPUT`, right after
   * the previous turn ("all realtime input since the last turn, including inactivity", the SDK's `TurnCoverage`).
   */
  private turnStartMs(activityStartMs: number): number {
    const allInput = this.setup?.realtimeInputConfig?.turnCoverage === 'TURN_INCLUDES_ALL_INPUT';
    return allInput ? this.lastTurnEndAudioMs : activityStartMs;
  }

  /** Caller activity while the model talks = barge-in, unless the setup asked for NO_INTERRUPTION. */
  private onCallerActivity(): void {
    const handling: unknown = this.setup?.realtimeInputConfig?.activityHandling;
    if (handling === 'NO_INTERRUPTION') return;
    this.interruptModelTurn();
  }

  private onClientContent(turns: unknown[], turnComplete: boolean): void {
    const text = turns
      .filter((t) => isRecord(t) && (t['role'] === undefined || t['role'] === 'user'))
      .flatMap((t): unknown[] => (isRecord(t) && Array.isArray(t['parts']) ? t['parts'] : []))
      .map((p: unknown) => (isRecord(p) && typeof p['text'] === 'string' ? p['text'] : ''))
      .filter((s) => s !== '')
      .join(' ');
    const conversation = this.requireConversation();
    conversation.promptTextTokens += textTokens(text);

    // historyConfig.initialHistoryInClientContent: seed history without a model call.
    if (this.setup?.historyConfig?.initialHistoryInClientContent && !this.initialHistoryDone) {
      if (turnComplete) this.initialHistoryDone = true;
      return;
    }
    if (text !== '') this.pendingClientContentText.push(text);
    this.interruptModelTurn(); // any clientContent interrupts the current generation
    if (!turnComplete) return;
    const heard = this.pendingClientContentText.splice(0).join(' ');
    this.onCallerTurnEnd({ source: 'clientContent', text: heard });
  }

  private onCallerTurnEnd(turn: {
    source: CallerTurnSource;
    text?: string;
    audioStartMs?: number;
    audioEndMs?: number;
  }): void {
    const conversation = this.requireConversation();
    const index = conversation.turnCount++;
    const isAudio = turn.audioStartMs !== undefined && turn.audioEndMs !== undefined;
    if (this.ignoredTurnOpen) {
      // The ignoredUtterances quirk: this turn only closes the one left open, with no output at all.
      this.ignoredTurnOpen = false;
      this.turns.push({ index, source: turn.source, endedAtMs: this.now(), ...(isAudio ? { audioStartMs: turn.audioStartMs, audioEndMs: turn.audioEndMs } : {}) });
      this.send({ serverContent: { turnComplete: true } });
      this.notify();
      return;
    }
    if (isAudio && this.quirks.ignoredUtterances?.includes(index)) {
      this.ignoredTurnOpen = true;
      this.turns.push({ index, source: turn.source, endedAtMs: this.now(), audioStartMs: turn.audioStartMs, audioEndMs: turn.audioEndMs });
      this.notify();
      return;
    }
    const seconds = isAudio ? ((turn.audioEndMs ?? 0) - (turn.audioStartMs ?? 0)) / 1000 : 0;

    let heardText = turn.text;
    const transcribe = this.host.options.transcribe;
    if (isAudio && transcribe) {
      heardText = transcribe({ audio16k: this.receivedAudio16k.slice(turn.audioStartMs ?? 0, turn.audioEndMs), turnIndex: index, session: this });
    }
    if (isAudio) conversation.promptAudioTokens += audioTokens(seconds);
    else if (turn.source === 'text') conversation.promptTextTokens += textTokens(turn.text ?? '');

    const callerTurn: CallerTurn = { index, source: turn.source, endedAtMs: this.now() };
    if (isAudio) this.lastTurnEndAudioMs = turn.audioEndMs ?? this.lastTurnEndAudioMs;
    if (isAudio) {
      callerTurn.audioStartMs = turn.audioStartMs;
      callerTurn.audioEndMs = turn.audioEndMs;
    }
    if (heardText !== undefined) callerTurn.heardText = heardText;
    const reply = this.pickReply(index, turn.source, heardText);
    if (reply) callerTurn.reply = reply;
    this.turns.push(callerTurn);

    // Transcripts exist only for audio, and only if the setup asked for them.
    if (isAudio && this.setup?.inputAudioTranscription !== undefined) {
      const text = reply?.heard ?? heardText ?? `(caller speech ${seconds.toFixed(1)} s)`;
      if (this.quirks.interimInputTranscripts) {
        // Each interim repeats the whole segment so far; the second one verbatim.
        const words = splitTranscript(text);
        for (let n = 1; n <= words.length; n++) {
          const soFar = words.slice(0, n).join('').trim();
          this.send({ serverContent: { interimInputTranscription: { text: soFar } } });
          if (n === 2) this.send({ serverContent: { interimInputTranscription: { text: soFar } } });
        }
      }
      this.send({ serverContent: { inputTranscription: { text } } });
    }
    if (this.quirks.rejectedTurns?.includes(index)) this.send({ serverContent: { turnComplete: true, turnCompleteReason: TurnCompleteReason.RESPONSE_REJECTED } });
    else if (reply) this.startModelTurn({ reply: this.quirks.nearSilentAnswers?.includes(index) ? nearSilent(reply, this.host.options.msPerChar) : reply, origin: 'callerTurn', callerTurn });
    this.notify();
  }

  private pickReply(turnIndex: number, source: CallerTurnSource, heardText: string | undefined): FakeReply | undefined {
    const script = this.host.options.replies;
    if (!script) return undefined;
    if (Array.isArray(script)) return script[turnIndex];
    const ctx = heardText === undefined ? { turnIndex, source, session: this } : { turnIndex, source, heardText, session: this };
    return script(ctx);
  }

  private requireConversation(): Conversation {
    if (!this.conversation) throw new Error('no conversation before setup');
    return this.conversation;
  }

  // ---------------------------------------------------------------------------------------------
  // Model turns.

  private startModelTurn(queued: TurnRequest): void {
    const reply = queued.reply;
    const audio = reply.audio ?? synthesizeSpeech(reply.text, { msPerChar: this.host.options.msPerChar ?? 60 });
    const record: ModelTurnRecord = {
      reply,
      origin: queued.origin,
      outcome: 'queued',
      scheduledAtMs: this.now(),
      audioSamples: audio.length,
      audioSamplesSent: 0,
      toolCallIds: [],
    };
    if (queued.callerTurn) {
      record.callerTurnIndex = queued.callerTurn.index;
      queued.callerTurn.modelTurn = record;
    }
    this.modelTurns.push(record);
    const toolCalls = queued.toolCalls ?? (reply.toolCalls ?? []).map((c, i) => ({ ...c, id: this.newCallId(i) }));
    record.toolCallIds = toolCalls.map((c) => c.id);
    const turn: ActiveTurn = {
      record,
      reply,
      audio,
      fragments: splitTranscript(reply.text),
      fragmentsSent: 0,
      phase: 'thinking',
      pendingToolIds: new Set(),
      toolCalls,
      timer: undefined,
      streamStartedAt: 0,
      anythingSent: false,
      sweeps: 0,
    };
    if (this.active || !this.setupCompleteSent) {
      this.waitingTurns.push(turn); // starts after the active turn's turnComplete (or after setupComplete)
      return;
    }
    this.activate(turn);
  }

  private activate(turn: ActiveTurn): void {
    this.active = turn;
    turn.record.outcome = 'pending';
    turn.record.scheduledAtMs = this.now();
    turn.timer = this.later(this.host.options.responseLatencyMs ?? 150, () => this.beginOutput(turn));
    this.notify();
  }

  private beginOutput(turn: ActiveTurn): void {
    if (this.active !== turn) return;
    // While generating or waiting on tools, the session cannot be resumed.
    if (this.resumptionEnabled()) this.send({ sessionResumptionUpdate: {} });
    if (this.quirks.bareMessages) this.send({});
    if (turn.toolCalls.length > 0) {
      for (const call of turn.toolCalls) {
        const record: ToolCallRecord = { id: call.id, name: call.name, args: call.args, atMs: this.now(), status: 'pending' };
        this.toolCalls.push(record);
        this.toolCallsById.set(call.id, { record, turn });
        turn.pendingToolIds.add(call.id);
      }
      this.markOutput(turn);
      this.send({ toolCall: { functionCalls: turn.toolCalls.map(({ id, name, args }) => ({ id, name, args })) } });
      turn.phase = 'toolPending';
      return;
    }
    this.startStreaming(turn);
  }

  private markOutput(turn: ActiveTurn): void {
    if (!turn.anythingSent) turn.record.firstOutputAtMs = this.now();
    turn.anythingSent = true;
  }

  private startStreaming(turn: ActiveTurn): void {
    turn.phase = 'streaming';
    turn.streamStartedAt = performance.now();
    this.streamNext(turn);
  }

  private streamNext(turn: ActiveTurn): void {
    if (this.active !== turn || !this.isOpen) return;
    const opts = this.host.options;
    const chunkSamples = Math.max(1, Math.round(((opts.chunkMs ?? 200) * OUTPUT_SAMPLE_RATE) / 1000));
    const total = turn.audio.length;
    const start = turn.record.audioSamplesSent;
    const end = Math.min(total, start + chunkSamples);

    // Transcript fragments whose proportional position falls within audio sent so far.
    let due = total === 0 ? turn.fragments.length : Math.ceil((turn.fragments.length * end) / total);
    // The transcriptWithGenerationComplete quirk keeps the last fragment for generationComplete's message.
    const holdLast = this.quirks.transcriptWithGenerationComplete === true && this.quirks.turnEnd !== 'turnComplete';
    if (holdLast) due = Math.min(due, turn.fragments.length - 1);
    const fragments = turn.fragments.slice(turn.fragmentsSent, Math.max(turn.fragmentsSent, due));
    turn.fragmentsSent = Math.max(turn.fragmentsSent, due);
    if (holdLast && end >= total && turn.fragmentsSent < turn.fragments.length) {
      turn.heldTranscript = turn.fragments.slice(turn.fragmentsSent).join(''); // sent with generationComplete, no modelTurn
      turn.fragmentsSent = turn.fragments.length;
    }
    const transcribeOutput = this.setup?.outputAudioTranscription !== undefined;
    const audioPart: Part | undefined =
      end > start
        ? { inlineData: { mimeType: 'audio/pcm;rate=24000', data: encodePcm16Base64(turn.audio.subarray(start, end)) } }
        : undefined;

    this.markOutput(turn);
    if (opts.multiPartEvents && audioPart && transcribeOutput && fragments.length > 0) {
      this.send({ serverContent: { modelTurn: { parts: [audioPart] }, outputTranscription: this.transcription(fragments.join('')) } });
    } else {
      if (transcribeOutput) for (const text of fragments) this.send({ serverContent: { outputTranscription: this.transcription(text) } });
      if (audioPart) this.send({ serverContent: { modelTurn: { parts: [audioPart] } } });
    }
    turn.record.audioSamplesSent = end;
    if (this.quirks.usage === 'incremental') {
      this.send({ usageMetadata: usage(this.requireConversation(), audioTokens(end / OUTPUT_SAMPLE_RATE)) });
    }

    if (end >= total) return this.finishGeneration(turn);
    const burst = opts.burstSpeed ?? 4;
    const dueAt = turn.streamStartedAt + ((end / OUTPUT_SAMPLE_RATE) * 1000) / burst;
    turn.timer = this.later(dueAt - performance.now(), () => this.streamNext(turn));
  }

  private transcription(text: string): { text: string } {
    // `finished: null` on the wire, as some captures show; the SDK's types have no null, hence the cast.
    return this.quirks.transcriptFinishedNull ? ({ text, finished: null } as unknown as { text: string }) : { text };
  }

  private finishGeneration(turn: ActiveTurn): void {
    const held = turn.heldTranscript;
    turn.heldTranscript = undefined;
    const transcribeOutput = this.setup?.outputAudioTranscription !== undefined;
    if (this.quirks.turnEnd === 'turnComplete') {
      if (held !== undefined && transcribeOutput) this.send({ serverContent: { outputTranscription: this.transcription(held) } });
    } else if (held !== undefined && transcribeOutput) {
      this.send({ serverContent: { outputTranscription: this.transcription(held), generationComplete: true } });
    } else {
      this.send({ serverContent: { generationComplete: true } });
    }
    turn.record.generationCompleteAtMs = this.now();
    turn.phase = 'tail';
    // The model assumes real-time playback: turnComplete when the reply would have finished playing.
    const playbackEnd = turn.streamStartedAt + (turn.audio.length / OUTPUT_SAMPLE_RATE) * 1000;
    turn.timer = this.later(playbackEnd - performance.now(), () => this.completeTurn(turn));
  }

  private completeTurn(turn: ActiveTurn): void {
    if (this.active !== turn) return;
    const conversation = this.requireConversation();
    const responseTokens = audioTokens(turn.audio.length / OUTPUT_SAMPLE_RATE);
    const perTurnUsage = (this.quirks.usage ?? 'perTurn') === 'perTurn' ? { usageMetadata: usage(conversation, responseTokens) } : {};
    if (this.quirks.turnEnd === 'generationComplete') {
      // The model never says turnComplete; the server-side turn still ends here.
      if (perTurnUsage.usageMetadata !== undefined) this.send(perTurnUsage);
    } else {
      this.send({ serverContent: { turnComplete: true, interactionStatus: InteractionStatus.IDLE }, ...perTurnUsage });
    }
    if (this.quirks.bareMessages) this.send({});
    conversation.promptAudioTokens += responseTokens; // the reply becomes context for the next turn
    turn.record.outcome = 'completed';
    turn.record.turnCompleteAtMs = this.now();
    // The greeting: the session's first reply (the bridge prompts it with realtime text).
    const phantom = this.quirks.phantomInterruptAfterGreeting === true && !this.resumedFrom && this.modelTurns[0] === turn.record;
    this.endActive();
    if (phantom) this.send({ serverContent: { interrupted: true } });
  }

  /** Barge-in: stop output, `interrupted` → (`toolCallCancellation`) → `turnComplete`; no generationComplete. */
  private interruptModelTurn(): void {
    const turn = this.active;
    const dropped = this.waitingTurns.splice(0);
    for (const w of dropped) w.record.outcome = 'cancelled';
    if (!turn) return;
    this.cancelTimer(turn.timer);
    if (!turn.anythingSent) {
      turn.record.outcome = 'cancelled'; // nothing reached the client: nothing to interrupt
      this.active = undefined;
      this.notify();
      return;
    }
    this.interruptions++;
    this.send({ serverContent: { interrupted: true } });
    this.sendLateChunks(turn);
    const pending = [...turn.pendingToolIds];
    if (pending.length > 0) {
      for (const id of pending) {
        const entry = this.toolCallsById.get(id);
        if (entry) entry.record.status = 'cancelled';
      }
      turn.pendingToolIds.clear();
      this.send({ toolCallCancellation: { ids: pending } });
    }
    const conversation = this.requireConversation();
    const responseTokens = audioTokens(turn.record.audioSamplesSent / OUTPUT_SAMPLE_RATE);
    const perTurnUsage = (this.quirks.usage ?? 'perTurn') === 'perTurn' ? { usageMetadata: usage(conversation, responseTokens) } : {};
    if (!this.quirks.interruptWithoutTurnComplete) {
      this.send({ serverContent: { turnComplete: true, interactionStatus: InteractionStatus.IDLE }, ...perTurnUsage });
      turn.record.turnCompleteAtMs = this.now();
    }
    conversation.promptAudioTokens += responseTokens; // only what was sent stays in history
    turn.record.outcome = 'interrupted';
    this.active = undefined;
    if (this.resumptionEnabled()) this.sendResumableAfterTurn();
    this.notify();
  }

  /** The `lateChunksAfterInterrupt` quirk: audio of the cut generation that was already on its way. */
  private sendLateChunks(turn: ActiveTurn): void {
    const count = this.quirks.lateChunksAfterInterrupt ?? 0;
    if (count <= 0 || turn.phase !== 'streaming') return;
    const chunkSamples = Math.max(1, Math.round(((this.host.options.chunkMs ?? 200) * OUTPUT_SAMPLE_RATE) / 1000));
    let at = turn.record.audioSamplesSent;
    for (let i = 0; i < count && at < turn.audio.length; i++) {
      const end = Math.min(turn.audio.length, at + chunkSamples);
      this.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: encodePcm16Base64(turn.audio.subarray(at, end)) } }] } } });
      turn.record.lateSamplesSent = (turn.record.lateSamplesSent ?? 0) + (end - at);
      at = end;
    }
  }

  private endActive(): void {
    this.active = undefined;
    if (this.resumptionEnabled()) this.sendResumableAfterTurn();
    const next = this.waitingTurns.shift();
    if (next) this.activate(next);
    this.notify();
  }

  private onToolResponse(responses: FunctionResponse[]): void {
    for (const response of responses) {
      const id = response.id ?? '';
      const entry = this.toolCallsById.get(id);
      if (!entry || entry.record.status === 'answered') return this.closeWith(1007, invalidArgument().reason);
      if (entry.record.status === 'cancelled') {
        // The model already dropped this call (toolCallCancellation); a late answer is ignored.
        this.toolResponses.push({ atMs: this.now(), response, accepted: false });
        continue;
      }
      this.toolResponses.push({ atMs: this.now(), response, accepted: true });
      // willContinue (NON_BLOCKING generator) keeps the id open for further responses.
      entry.record.status = response.willContinue === true ? 'continuing' : 'answered';
      this.requireConversation().promptTextTokens += textTokens(JSON.stringify(response.response ?? {}));
      const turn = entry.turn;
      if (turn && this.active === turn && turn.pendingToolIds.delete(id) && turn.pendingToolIds.size === 0) {
        if (this.sweepAgain(turn)) continue;
        turn.phase = 'thinking';
        if (turn.reply.afterToolResponses !== undefined) this.replyFromToolResponses(turn, turn.reply.afterToolResponses);
        turn.timer = this.later(this.host.options.responseLatencyMs ?? 150, () => this.startStreaming(turn));
      }
    }
  }

  /**
   * The sweepsOnUninformativeToolResult quirk: an answer that says nothing makes the model call the same functions
   * again, with the same arguments, before it speaks.
   */
  private sweepAgain(turn: ActiveTurn): boolean {
    const limit = this.quirks.sweepsOnUninformativeToolResult ?? 0;
    const ids = new Set(turn.toolCalls.map((call) => call.id));
    const answers = this.toolResponses.filter((r) => r.accepted && ids.has(r.response.id ?? ''));
    if (turn.sweeps >= limit || !answers.some((r) => uninformative(r.response.response))) return false;
    turn.sweeps++;
    turn.toolCalls = turn.toolCalls.map((call, i) => ({ ...call, id: this.newCallId(i) }));
    turn.record.toolCallIds.push(...turn.toolCalls.map((call) => call.id));
    turn.timer = this.later(this.host.options.responseLatencyMs ?? 150, () => this.beginOutput(turn));
    return true;
  }

  /** The reply's words depend on its tool results: make them now that every result is in. */
  private replyFromToolResponses(turn: ActiveTurn, speak: NonNullable<FakeReply['afterToolResponses']>): void {
    const ids = new Set(turn.record.toolCallIds);
    const answers = this.toolResponses.filter((r) => r.accepted && ids.has(r.response.id ?? '')).map((r) => r.response);
    const said = speak(answers);
    const audio = said.audio ?? synthesizeSpeech(said.text, { msPerChar: this.host.options.msPerChar ?? 60 });
    turn.reply = { ...turn.reply, text: said.text, audio };
    turn.record.reply = turn.reply;
    turn.audio = audio;
    turn.fragments = splitTranscript(said.text);
    turn.fragmentsSent = 0;
    turn.record.audioSamples = audio.length;
  }

  // ---------------------------------------------------------------------------------------------
  // Session resumption.

  private resumptionEnabled(): boolean {
    return this.setup?.sessionResumption !== undefined || this.quirks.repeatedResumptionUpdates === true;
  }

  /** After a turn: one resumable update, or three in a row with the `repeatedResumptionUpdates` quirk. */
  private sendResumableAfterTurn(): void {
    const times = this.quirks.repeatedResumptionUpdates ? 3 : 1;
    for (let i = 0; i < times; i++) this.sendResumable();
  }

  private newCallId(indexInCall: number): string {
    return this.quirks.mixedToolCallIds && indexInCall % 2 === 1 ? newShortCallId() : newFunctionCallId();
  }

  private sendResumable(handle?: string): void {
    const newHandle = handle ?? newResumptionHandle();
    this.host.registerHandle(newHandle, this.requireConversation(), this.index);
    this.issuedHandles.push(newHandle);
    const transparent = isRecord(this.setup?.sessionResumption) && this.setup?.sessionResumption?.transparent === true;
    this.send({
      sessionResumptionUpdate: transparent
        ? { newHandle, resumable: true, lastConsumedClientMessageIndex: String(this.clientMessagesConsumed) }
        : { newHandle, resumable: true },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function withModelsPrefix(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

function systemInstructionText(setup: LiveClientSetup): string {
  const si: unknown = setup.systemInstruction;
  if (typeof si === 'string') return si;
  if (!isRecord(si) || !Array.isArray(si['parts'])) return '';
  return si['parts'].map((p: unknown) => (isRecord(p) && typeof p['text'] === 'string' ? p['text'] : '')).join('\n');
}

/** Ids look like the service's: `function-call-` + a 64-bit decimal. */
function newFunctionCallId(): string {
  const hi = BigInt(randomInt(0, 2 ** 31));
  const lo = BigInt(randomInt(0, 2 ** 32 - 1));
  return `function-call-${(hi << 32n) | lo}`;
}

/** The other id format seen in one toolCall: a short lowercase alphanumeric string. */
function newShortCallId(): string {
  return randomBytes(6).toString('hex').slice(0, 8);
}

/** The reply at near-zero amplitude (x 1/1000): full length, transcripts and all, but silence to a listener. */
function nearSilent(reply: FakeReply, msPerChar = 60): FakeReply {
  const audio = reply.audio ?? synthesizeSpeech(reply.text, { msPerChar });
  return { ...reply, audio: audio.map((sample) => Math.round(sample / 1000)) };
}

/** A tool result that tells the model nothing (Google's 3.8 migration notes: empty lists, zero counts, None). */
function uninformative(response: Record<string, unknown> | undefined): boolean {
  if (response === undefined || 'error' in response) return response === undefined;
  const output = response['output'];
  const empty = (value: unknown): boolean =>
    value === undefined || value === null || value === '' || value === 0 || (Array.isArray(value) && value.length === 0) || (isRecord(value) && Object.values(value).every(empty));
  return empty(output);
}

/** Opaque handle in the style of the service's (base64 of a serialized proto). */
function newResumptionHandle(): string {
  return `Cj${randomBytes(42).toString('base64url')}`;
}

/** Realistic shape; proto3 JSON omits zero counts. Prompt = whole context so far. */
function usage(conversation: Conversation, responseTokens: number): UsageMetadata {
  const details = (pairs: Array<[MediaModality, number]>): ModalityTokenCount[] =>
    pairs.filter(([, n]) => n > 0).map(([modality, tokenCount]) => ({ modality, tokenCount }));
  const prompt = conversation.promptTextTokens + conversation.promptAudioTokens;
  const out: UsageMetadata = { totalTokenCount: prompt + responseTokens };
  if (prompt > 0) {
    out.promptTokenCount = prompt;
    out.promptTokensDetails = details([
      [MediaModality.TEXT, conversation.promptTextTokens],
      [MediaModality.AUDIO, conversation.promptAudioTokens],
    ]);
  }
  if (responseTokens > 0) {
    out.responseTokenCount = responseTokens;
    out.responseTokensDetails = details([[MediaModality.AUDIO, responseTokens]]);
  }
  return out;
}
