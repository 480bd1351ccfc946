import { DEFAULT_CUES, type AgentCues } from '../agents/agent.js';
import type { CallLimits } from '../settings/config.js';

/** The cues the watchdog asks the call to send to the model (the agent's, or the defaults). */
export type WatchdogCues = Pick<AgentCues, 'stall' | 'emptyTurn' | 'silenceCheckIn' | 'silenceGoodbye' | 'maxDurationGoodbye'>;

export interface WatchdogActions {
  /** Send a cue to the model as realtime text. */
  cue(text: string): void;
  /** The model stays silent even after a cue: continue on a fresh connection, resumed (models with session resumption). */
  resumeSession(): void;
  /** Say goodbye with this cue, then hang up once it has been heard. */
  hangUpAfterGoodbye(cue: string, reason: 'silence' | 'max-duration'): void;
}

export type WatchdogLimits = Pick<CallLimits, 'stallTimeoutMs' | 'silenceTimeoutMs' | 'maxCallDurationMs'>;

/** After this many resumed sessions for one unanswered caller turn, stop trying and let the caller speak again. */
const MAX_STALL_RESUMES = 2;

/**
 * Keeps a call from hanging in dead air. Three clocks:
 * - stall: the caller finished speaking and no agent audio followed within `stallTimeoutMs` (or the
 *   model sent an empty turn): cue the model, then resume the session, and count it;
 * - silence: nobody has said anything for `silenceTimeoutMs` after the agent's last words: the
 *   agent checks in once, then says goodbye and the call ends;
 * - duration: at `maxCallDurationMs` the agent says goodbye and the call ends.
 */
export class ConversationWatchdog {
  readonly stats = { stalls: 0, emptyTurns: 0, silencePrompts: 0 };
  private stallTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  private awaitingReply = false;
  private stallStage = 0;
  private silenceStage = 0;
  private agentAudioThisTurn = false;
  private finishing = false;

  constructor(
    private readonly limits: WatchdogLimits,
    private readonly actions: WatchdogActions,
    private readonly cues: WatchdogCues = DEFAULT_CUES,
  ) {}

  start(): void {
    this.durationTimer = setTimeout(() => this.finish(this.cues.maxDurationGoodbye, 'max-duration'), this.limits.maxCallDurationMs);
  }

  /** The caller is owed a reply from here on (the model may even answer before our own VAD hears the end). */
  callerSpeechStarted(): void {
    this.awaitingReply = true;
    this.stallStage = 0;
    this.clearStall();
    this.clearSilence();
    this.silenceStage = 0;
  }

  callerSpeechEnded(): void {
    if (this.awaitingReply) this.armStall();
  }

  /** Agent audio, a tool call, or anything else that shows the model is on it. */
  agentActive(): void {
    this.agentAudioThisTurn = true;
    this.awaitingReply = false;
    this.clearStall();
    this.clearSilence();
  }

  /** A model turn ended; `playbackLeftMs` is how much of it the caller has yet to hear. */
  agentTurnComplete(interrupted: boolean, playbackLeftMs: number): void {
    const empty = !this.agentAudioThisTurn && !interrupted;
    this.agentAudioThisTurn = false;
    if (empty && this.awaitingReply && this.stallStage === 0) {
      this.stats.emptyTurns++;
      this.stats.stalls++;
      this.stallStage = 1;
      this.actions.cue(this.cues.emptyTurn);
      this.armStall();
      return;
    }
    if (!this.awaitingReply) this.armSilence(playbackLeftMs);
  }

  dispose(): void {
    this.clearStall();
    this.clearSilence();
    clearTimeout(this.durationTimer);
  }

  private armStall(): void {
    this.clearStall();
    this.stallTimer = setTimeout(() => this.onStall(), this.limits.stallTimeoutMs);
  }

  private onStall(): void {
    if (!this.awaitingReply || this.finishing) return;
    this.stats.stalls++;
    this.stallStage++;
    if (this.stallStage === 1) this.actions.cue(this.cues.stall);
    else if (this.stallStage <= 1 + MAX_STALL_RESUMES) this.actions.resumeSession();
    else return; // give up nudging this turn; the caller's next words start a fresh one
    this.armStall();
  }

  private armSilence(extraMs: number): void {
    this.clearSilence();
    this.silenceTimer = setTimeout(() => this.onSilence(), this.limits.silenceTimeoutMs + Math.max(0, extraMs));
  }

  private onSilence(): void {
    if (this.finishing) return;
    if (this.silenceStage === 0) {
      this.silenceStage = 1;
      this.stats.silencePrompts++;
      this.actions.cue(this.cues.silenceCheckIn);
      return; // the prompt's own turn re-arms the clock when it completes
    }
    this.finish(this.cues.silenceGoodbye, 'silence');
  }

  private finish(cue: string, reason: 'silence' | 'max-duration'): void {
    if (this.finishing) return;
    this.finishing = true;
    this.clearStall();
    this.clearSilence();
    this.actions.hangUpAfterGoodbye(cue, reason);
  }

  private clearStall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  private clearSilence(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
  }
}
