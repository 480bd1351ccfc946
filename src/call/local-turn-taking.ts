import type { LocalTurnSettings } from '../agents/turn-taking.js';
import { FRAME_MS, MULAW_BYTES_PER_MS, TWILIO_FRAME_BYTES } from '../audio/format.js';
import { dbfsToMeanSquare, meanSquareToDbfs, MULAW_SQUARED_SAMPLE } from '../audio/level.js';
import { callerAudioConverter, type CallerAudioConverter, type ModelInputAudio } from '../audio/model-audio.js';
import { DEFAULT_SPEECH_THRESHOLD_DBFS } from '../audio/speech-detector.js';
import type { RealtimeConversation } from '../model/realtime-model.js';
import { CallerTurnDetector, type TurnEvent } from '../turn-detection/caller-turn.js';
import { AgentEchoReference } from '../turn-detection/echo-reference.js';
import { VAD_WINDOW_MS } from '../turn-detection/silero-vad.js';
import type { VadService, VadStream } from '../turn-detection/vad-service.js';
import type { AgentPlayout } from './agent-playout.js';

/**
 * Local turn detection for one call: the caller's audio goes through a voice detector here (Silero VAD, batched
 * across calls by the process's VadService, or the energy detector), CallerTurnDetector decides, and this acts:
 *
 * | decision | what the call does |
 * |---|---|
 * | `speechStarted` (agent silent) | `activityStart`, then the caller's audio again from just before the onset |
 * | `overlapStarted` | pause the agent: Twilio `clear`, the unheard audio kept (AgentPlayout) |
 * | `backchannel` | resume the agent where it stopped |
 * | `bargeIn` | cut the agent (its late audio dropped: AgentTurn.cut), then as `speechStarted` |
 * | `speechEnded` | `activityEnd` |
 *
 * Caller audio keeps flowing to the model all along; with the model's own detection disabled its turn holds only
 * what follows `activityStart` (turn coverage: activity), so the onset the detector needed to be sure is sent again
 * after the signal (the pre-roll; Pipecat does the same before its `activityStart`). Everything runs on the stream's
 * own clock: ms of caller audio received. The agent's audio is placed on that clock as the caller hears it: sent at
 * `now`, heard `lagMs` later (both network legs, AgentPlayout), which is also when its echo starts coming back.
 */

export interface LocalTurnHooks {
  /** The caller's turn started (after a cut, too): the model has been told. */
  callerSpeechStarted(): void;
  /** The caller's turn ended, their last speech `silenceMs` ago: the model has been told. */
  callerSpeechEnded(silenceMs: number): void;
  /** The caller talked over the agent long enough: cut it (the playout, the generation's late audio). */
  cutAgent(): void;
}

export interface LocalTurnTakingOptions {
  turnTaking: LocalTurnSettings;
  /** The process's neural VAD; required for the `neural` detector. */
  vad: VadService | undefined;
  conversation: Pick<RealtimeConversation, 'sendAudio' | 'activityStart' | 'activityEnd'>;
  /** The caller audio format the model takes, for the pre-roll. */
  modelInput: ModelInputAudio;
  playout: Pick<AgentPlayout, 'pause' | 'resume' | 'isPaused' | 'lagMs'>;
  hooks: LocalTurnHooks;
}

/** Caller audio kept for the pre-roll: a barge-in is decided within this of its onset (bench: p95 1.5 s). */
const MAX_PRE_ROLL_MS = 3_000;
const ENERGY_THRESHOLD_MEAN_SQUARE = dbfsToMeanSquare(DEFAULT_SPEECH_THRESHOLD_DBFS);

export class LocalTurnTaking {
  private readonly detector: CallerTurnDetector;
  private readonly echo = new AgentEchoReference();
  private readonly stream: VadStream | undefined;
  /** The latest caller audio (mu-law ring) and how much has been received: the stream's clock. */
  private readonly recent = new Uint8Array(MAX_PRE_ROLL_MS * MULAW_BYTES_PER_MS);
  private received = 0;
  private readonly replayConverter: CallerAudioConverter;
  private readonly replayFrame = new Uint8Array(TWILIO_FRAME_BYTES);
  /** The energy detector: the frame being summed. */
  private frameEnergy = 0;
  private frameBytes = 0;
  /** The agent's audio as the caller hears it, on the stream's clock: the current run of it. */
  private agentRunStartMs = 0;
  private agentHeardUntilMs = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(private readonly options: LocalTurnTakingOptions) {
    const { turnTaking, vad } = options;
    this.detector = new CallerTurnDetector(turnTaking.settings);
    this.replayConverter = callerAudioConverter(options.modelInput);
    if (turnTaking.detector === 'neural') {
      if (vad === undefined) throw new Error('local turn detection with the neural detector needs the VAD loaded at start-up');
      this.stream = vad.openStream((w) => this.onWindow(w.endMs, VAD_WINDOW_MS, w.speechProbability, w.levelDbfs));
      this.stream.active = true;
    }
  }

  /** ms of caller audio received. */
  private get clockMs(): number {
    return this.received / MULAW_BYTES_PER_MS;
  }

  /** Every caller frame, as the model gets it (holes filled with silence). */
  callerAudio(mulaw: Uint8Array): void {
    if (this.closed) return;
    for (let i = 0; i < mulaw.length; i++) this.recent[(this.received + i) % this.recent.length] = mulaw[i] as number;
    if (this.stream !== undefined) {
      this.received += mulaw.length;
      this.stream.push(mulaw);
      return;
    }
    for (let i = 0; i < mulaw.length; i++) {
      this.received++;
      this.frameEnergy += MULAW_SQUARED_SAMPLE[mulaw[i] as number] as number;
      if (++this.frameBytes < TWILIO_FRAME_BYTES) continue;
      const meanSquare = this.frameEnergy / TWILIO_FRAME_BYTES;
      this.frameEnergy = 0;
      this.frameBytes = 0;
      this.onWindow(this.clockMs, FRAME_MS, meanSquare > ENERGY_THRESHOLD_MEAN_SQUARE ? 1 : 0, meanSquareToDbfs(meanSquare));
    }
  }

  /** A frame of agent audio went to Twilio now. */
  agentAudioSent(mulaw: Uint8Array): void {
    const heardAtMs = this.clockMs + this.options.playout.lagMs;
    const startMs = Math.max(heardAtMs, this.agentHeardUntilMs);
    if (heardAtMs > this.agentHeardUntilMs) this.agentRunStartMs = startMs; // Twilio had nothing left: a new run
    this.echo.played(startMs, mulaw);
    this.agentHeardUntilMs = startMs + mulaw.length / MULAW_BYTES_PER_MS;
  }

  /** Twilio was told to drop what it has not played. */
  agentAudioCleared(): void {
    const stopsAtMs = this.clockMs + this.options.playout.lagMs;
    this.echo.clearFrom(stopsAtMs);
    this.agentHeardUntilMs = Math.min(this.agentHeardUntilMs, stopsAtMs);
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
  }

  private onWindow(endMs: number, durationMs: number, speechProbability: number, levelDbfs: number): void {
    if (this.closed) return;
    const { playout } = this.options;
    // Paused for the caller, the agent still has the floor until the overlap is decided.
    const agentAudible = this.options.turnTaking.callerInterrupts && (playout.isPaused || (endMs > this.agentRunStartMs && endMs - durationMs < this.agentHeardUntilMs));
    const echoReferenceDbfs = this.echo.loudestDbfs(endMs, durationMs);
    const event = this.detector.window({ endMs, durationMs, speechProbability, levelDbfs, agentAudible, echoReferenceDbfs });
    if (event !== undefined) this.act(event);
  }

  private act(event: TurnEvent): void {
    const { conversation, playout, hooks } = this.options;
    switch (event.type) {
      case 'speechStarted':
        return this.openTurn(event.onsetMs);
      case 'overlapStarted':
        return playout.pause();
      case 'backchannel':
        return playout.resume();
      case 'bargeIn':
        hooks.cutAgent();
        return this.openTurn(event.onsetMs);
      case 'speechEnded':
        conversation.activityEnd?.();
        return hooks.callerSpeechEnded(event.atMs - event.endMs);
    }
  }

  private openTurn(onsetMs: number): void {
    this.options.conversation.activityStart?.();
    if (this.options.turnTaking.preRoll) this.replaySince(onsetMs - this.detector.settings.preRollPaddingMs);
    this.options.hooks.callerSpeechStarted();
  }

  /** The caller's audio from `fromMs` to now, again, in frames as the model takes them. */
  private replaySince(fromMs: number): void {
    const end = this.received;
    let at = Math.max(0, end - this.recent.length, Math.round(fromMs * MULAW_BYTES_PER_MS));
    while (at < end) {
      const length = Math.min(TWILIO_FRAME_BYTES, end - at);
      for (let i = 0; i < length; i++) this.replayFrame[i] = this.recent[(at + i) % this.recent.length] as number;
      this.options.conversation.sendAudio(this.replayConverter.convert(this.replayFrame.subarray(0, length)));
      at += length;
    }
  }
}
