/**
 * Decides, window by window, when the caller starts a turn, cuts the agent off, merely acknowledges it, and
 * stops: local turn detection, on the stream's own clock (no timers), from any speech score per window.
 *
 * A window is the caller's speech only if all of these hold:
 *   - its score reaches `speechThreshold` (Silero's default 0.5; a 1/0 energy decision works as well). Below
 *     `silenceThreshold` it is silence; between the two it neither starts nor ends anything, Silero's own
 *     hysteresis (snakers4/silero-vad `utils_vad.py`, `VADIterator`: silence below threshold − 0.15);
 *   - it is louder than `minSpeechLevelDbfs` (a far-away voice or a television is not the caller);
 *   - it is not the agent's own voice coming back from the caller's phone. A neural VAD scores that echo as
 *     speech (bench: Silero v6 scores 96 % of echo windows at −30 dB as speech), so the window must be no more
 *     than `echoMarginDb` below the loudest agent audio the caller heard within the echo's reach: the level test
 *     of the Geigel double-talk detector (D. L. Duttweiler, "A Twelve-Channel Digital Echo Canceler", IEEE Trans.
 *     Commun. 26(5), 1978), with the margin set from the echo return loss to expect (−25 to −35 dB on phones).
 *
 * Then, with the agent silent: `startSpeechMs` of speech without a silent window opens the caller's turn
 * (`speechStarted`). With the agent audible (the playout knows what the caller hears), the same onset is only an
 * overlap (`overlapStarted`): it cuts the agent (`bargeIn`) once it has held `minBargeInSpeechMs` of speech, and
 * if a silence of `overlapSilenceMs` comes first it was a backchannel ("mm-hm", "okay": `backchannel`) and the
 * agent goes on. LiveKit Agents waits 0.5 s of speech by default before an interruption (agents-js
 * `voice/turn_config/interruption.ts`, `minDuration`) and can resume a falsely interrupted agent: a caller of
 * this class may pause playout at `overlapStarted` and resume at `backchannel` the same way. A turn ends after
 * `endSilenceMs` of silence (`speechEnded`). A turn's opening events carry the pre-roll: how far back the caller's
 * audio must be replayed so the model hears the onset (Pipecat keeps 0.5 s before an `activityStart`,
 * `DEFAULT_USER_AUDIO_PREROLL_SECS`).
 */

export interface TurnDetectionSettings {
  speechThreshold: number;
  silenceThreshold: number;
  minSpeechLevelDbfs: number;
  echoMarginDb: number;
  startSpeechMs: number;
  minBargeInSpeechMs: number;
  overlapSilenceMs: number;
  endSilenceMs: number;
  /** Audio kept before the onset as well, for the words' soft beginnings. */
  preRollPaddingMs: number;
}

export const DEFAULT_TURN_DETECTION: TurnDetectionSettings = {
  speechThreshold: 0.5,
  silenceThreshold: 0.35,
  minSpeechLevelDbfs: -50,
  echoMarginDb: 20,
  startSpeechMs: 64,
  // 500 ms (LiveKit's default) cut 4 of 16 backchannels end to end: once the agent is paused its echo no longer
  // masks their soft ends. 700 cut none and missed no sentence; the caller hears the pause either way (bench).
  minBargeInSpeechMs: 700,
  overlapSilenceMs: 500,
  endSilenceMs: 500,
  preRollPaddingMs: 100,
};

/** One scored window of caller audio and what the caller could hear meanwhile. */
export interface CallerWindow {
  /** The window's end on the stream's clock, and its length (32 ms for Silero, 20 for an energy frame). */
  endMs: number;
  durationMs: number;
  /** Speech probability, or 1/0 from an energy detector. */
  speechProbability: number;
  levelDbfs: number;
  /** The agent's audio is playing to the caller. */
  agentAudible: boolean;
  /** The loudest agent audio the caller heard within the echo's reach (AgentEchoReference); −Infinity if none. */
  echoReferenceDbfs: number;
}

export type TurnEvent =
  /** The caller started a turn while the agent was silent; replay `preRollMs` of their audio before now. */
  | { type: 'speechStarted'; atMs: number; onsetMs: number; preRollMs: number }
  /** The caller started talking over the agent: a barge-in or a backchannel, not known yet. */
  | { type: 'overlapStarted'; atMs: number; onsetMs: number }
  /** The caller has talked over the agent long enough: cut the agent, the caller's turn has started. */
  | { type: 'bargeIn'; atMs: number; onsetMs: number; preRollMs: number; speechMs: number }
  /** The overlap ended short: the agent goes on (resume it if it was paused at `overlapStarted`). */
  | { type: 'backchannel'; atMs: number; onsetMs: number; speechMs: number }
  /** The caller's turn ended; their last speech ended at `endMs`. */
  | { type: 'speechEnded'; atMs: number; endMs: number };

export type CallerTurnState = 'idle' | 'onset' | 'overlap' | 'turn';

type WindowKind = 'speech' | 'silence' | 'unsure';

export class CallerTurnDetector {
  private current: CallerTurnState = 'idle';
  private onsetMs = 0;
  private speechMs = 0;
  private silenceMs = 0;
  private lastSpeechEndMs = 0;

  constructor(readonly settings: TurnDetectionSettings = DEFAULT_TURN_DETECTION) {}

  get state(): CallerTurnState {
    return this.current;
  }

  /** The next window; at most one event comes out of it. */
  window(w: CallerWindow): TurnEvent | undefined {
    const kind = this.classify(w);
    if (kind === 'speech') {
      if (this.current === 'idle') this.begin(w);
      this.speechMs += w.durationMs;
      this.silenceMs = 0;
      this.lastSpeechEndMs = w.endMs;
    } else if (kind === 'silence' && this.current !== 'idle') {
      this.silenceMs += w.durationMs;
    }
    switch (this.current) {
      case 'idle':
        return undefined;
      case 'onset':
        return this.confirmOnset(w, kind);
      case 'overlap':
        return this.decideOverlap(w);
      case 'turn':
        return this.endTurn(w);
    }
  }

  /** Forget everything in progress (a new model session, a call transferred). */
  reset(): void {
    this.current = 'idle';
    this.speechMs = 0;
    this.silenceMs = 0;
  }

  private classify(w: CallerWindow): WindowKind {
    const { speechThreshold, silenceThreshold, minSpeechLevelDbfs, echoMarginDb } = this.settings;
    const callerLoudEnough = w.levelDbfs >= minSpeechLevelDbfs && w.levelDbfs >= w.echoReferenceDbfs - echoMarginDb;
    if (!callerLoudEnough || w.speechProbability < silenceThreshold) return 'silence';
    return w.speechProbability >= speechThreshold ? 'speech' : 'unsure';
  }

  private begin(w: CallerWindow): void {
    this.current = 'onset';
    this.onsetMs = w.endMs - w.durationMs;
    this.speechMs = 0;
    this.silenceMs = 0;
  }

  private confirmOnset(w: CallerWindow, kind: WindowKind): TurnEvent | undefined {
    // A click or a breath: silence before the onset was confirmed.
    if (kind === 'silence') {
      this.current = 'idle';
      return undefined;
    }
    if (this.speechMs < this.settings.startSpeechMs) return undefined;
    if (!w.agentAudible) return this.openTurn(w, 'speechStarted');
    this.current = 'overlap';
    return this.decideOverlap(w) ?? { type: 'overlapStarted', atMs: w.endMs, onsetMs: this.onsetMs };
  }

  private decideOverlap(w: CallerWindow): TurnEvent | undefined {
    if (this.speechMs >= this.settings.minBargeInSpeechMs) return this.openTurn(w, 'bargeIn');
    // The agent finished while the caller was talking: nothing to cut, the caller simply has the floor.
    if (!w.agentAudible) return this.openTurn(w, 'speechStarted');
    if (this.silenceMs < this.settings.overlapSilenceMs) return undefined;
    this.current = 'idle';
    return { type: 'backchannel', atMs: w.endMs, onsetMs: this.onsetMs, speechMs: this.speechMs };
  }

  private openTurn(w: CallerWindow, type: 'speechStarted' | 'bargeIn'): TurnEvent {
    this.current = 'turn';
    const preRollMs = w.endMs - this.onsetMs + this.settings.preRollPaddingMs;
    if (type === 'speechStarted') return { type, atMs: w.endMs, onsetMs: this.onsetMs, preRollMs };
    return { type, atMs: w.endMs, onsetMs: this.onsetMs, preRollMs, speechMs: this.speechMs };
  }

  private endTurn(w: CallerWindow): TurnEvent | undefined {
    if (this.silenceMs < this.settings.endSilenceMs) return undefined;
    this.current = 'idle';
    return { type: 'speechEnded', atMs: w.endMs, endMs: this.lastSpeechEndMs };
  }
}
