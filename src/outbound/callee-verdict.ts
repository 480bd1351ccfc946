import { FRAME_MS } from '../audio/format.js';
import type { CalleeKind, CalleeVerdict, TwilioAnsweredBy, VerdictSignal } from '../domain/answered-by.js';
import type { ToneEvent } from '../audio/tone-detector.js';
import { classifyCalleeWords, type PhraseVerdict } from './callee-phrases.js';

/**
 * Who answered an outbound call, and what the agent does about it: a pure state machine that combines every signal
 * into one verdict (human, machine, fax, screener, unknown), with the signal that decided it and when, and tells
 * the call when its agent may speak.
 *
 * Signals, each with its source:
 * - **Twilio's asynchronous answering machine detection** with `MachineDetection=DetectMessageEnd`: `AnsweredBy` is
 *   `human`, `fax` or `unknown`, or for a machine `machine_end_beep`, `machine_end_silence` or `machine_end_other`
 *   once its greeting has ended (`machine_start` is `Enable` mode's early machine verdict)
 *   (https://www.twilio.com/docs/voice/answering-machine-detection). Twilio publishes no accuracy figure today; its
 *   documented thresholds are speech longer than 2400 ms for a machine, 1200 ms of silence to end speech, 5000 ms
 *   of initial silence for `unknown` (`machineDetectionSpeechThreshold`, `…SpeechEndThreshold`,
 *   `…SilenceTimeout` in twilio-node's Calls API types).
 * - **Our own tone detector** on the callee's audio (src/audio/tone-detector.ts): a beep ends a greeting; a 2100 Hz
 *   answer tone is a fax.
 * - **The model's transcript** of the callee (callee-phrases.ts): a screener's prompt, a greeting's words.
 * - **How the callee speaks**: a person answers with a short hello and waits; a greeting talks on. A short greeting
 *   (at most HUMAN_MAX_SPEECH_MS) followed by HUMAN_PAUSE_MS of quiet is a person, as in LiveKit's AMD
 *   (livekit/agents-js agents/src/voice/amd.ts: 2500 ms of speech, 500 ms of silence); nothing heard for
 *   SILENT_CALLEE_MS and the agent speaks first (people often wait for the caller to speak).
 *
 * Strength, when signals disagree: a beep (ours, or Twilio's `machine_end_beep`) says the machine is recording now
 * and beats everything; the callee's words beat Twilio's other verdicts, which judge by length alone (to them a
 * receptionist's long hello or a screener's prompt is a machine); Twilio's verdict beats how the callee spoke. Time
 * alone never makes a machine: a long hello followed by silence is `unknown` and the agent introduces itself,
 * because a message left to a person is worse than an introduction recorded by a machine (Twilio's own detector is
 * likewise tuned toward people).
 *
 * Phases: `listening` (the agent is held) → `introducing` / `identifying` (the agent's first turn plays) →
 * `conversation`; or → `machine-greeting` (held until the greeting ends) → `voicemail`; or `ended` (hung up). A
 * machine signal during the agent's first turn still stops it (nobody has answered the agent yet); from
 * `conversation` on, verdicts are recorded and ignored.
 */

export type { CalleeKind, CalleeVerdict, TwilioAnsweredBy, VerdictSignal } from '../domain/answered-by.js';

export type OpeningPhase = 'listening' | 'machine-greeting' | 'introducing' | 'identifying' | 'voicemail' | 'conversation' | 'ended';

export type OpeningAction =
  /** The agent introduces itself now. */
  | 'introduce'
  /** A screener asks who calls: the agent says its name and purpose only. */
  | 'identify'
  /** A machine answered while the agent's first turn played: cut it. */
  | 'stop-agent'
  /** The greeting has ended: leave the voicemail now. */
  | 'leave-voicemail'
  /** Hang up at once: a fax, or a machine for an agent that leaves no voicemail. */
  | 'hang-up';

/** A person's hello is shorter than this (Twilio's default speech threshold). */
export const HUMAN_MAX_SPEECH_MS = 2_400;
/** After a short hello, this much quiet and the agent speaks. */
export const HUMAN_PAUSE_MS = 700;
/** After a long greeting with no machine signal, this much quiet and the agent speaks (LiveKit's machine silence). */
export const LONG_GREETING_PAUSE_MS = 1_500;
/** A callee who says nothing this long after answering hears the agent first. */
export const SILENT_CALLEE_MS = 2_000;
/** A machine's greeting without a beep has ended after this much quiet (a beep after a pause comes well within). */
export const GREETING_END_SILENCE_MS = 2_500;
/**
 * A callee who has not paused by then hears the agent anyway (`unknown`): a person among loud voices never seems
 * to pause, and a greeting longer than this is rare; a machine signal later still stops the agent.
 */
export const LISTEN_TIMEOUT_MS = 12_000;
/** A greeting still talking after this long gets the voicemail anyway (Twilio's default detection timeout). */
export const MAX_GREETING_MS = 30_000;
/** Voice this long starts the callee's speech (shorter clicks do not). */
const SPEECH_START_MS = 100;

const NO_ACTIONS: readonly OpeningAction[] = Object.freeze([]);

export interface CalleeSignalRecord {
  signal: VerdictSignal;
  /** Twilio's AnsweredBy, the tone's pitch, the kind of phrase heard. */
  value: string;
  atMs: number;
  /** The signal came after the conversation started, or contradicted a stronger one. */
  ignored: boolean;
}

export class CalleeVerdicts {
  phase: OpeningPhase = 'listening';
  verdict: CalleeVerdict | undefined;
  readonly signals: CalleeSignalRecord[] = [];
  private voicedRun = 0;
  private speechStartedAtMs: number | undefined;
  private lastVoiceAtMs: number | undefined;
  private machineSinceMs = 0;
  /** What the callee's words said last. */
  private words: PhraseVerdict | undefined;

  /** `onMachine`: leave a voicemail, or hang up on machines. */
  constructor(private readonly onMachine: 'voicemail' | 'hang-up' = 'voicemail') {}

  /** One 20 ms frame of the callee's audio at `nowMs`: loud enough to be voice or not. */
  frame(nowMs: number, voiced: boolean): readonly OpeningAction[] {
    this.trackSpeech(nowMs, voiced);
    if (this.phase === 'listening') return this.listen(nowMs);
    if (this.phase === 'machine-greeting') return this.awaitGreetingEnd(nowMs);
    return NO_ACTIONS;
  }

  tone(nowMs: number, tone: ToneEvent, frequencyHz: number): readonly OpeningAction[] {
    if (tone === 'fax') return this.fax(nowMs, 'fax-tone', `${frequencyHz} Hz`);
    return this.greetingOver(nowMs, 'beep', `${frequencyHz} Hz`);
  }

  twilio(nowMs: number, answeredBy: TwilioAnsweredBy): readonly OpeningAction[] {
    switch (answeredBy) {
      case 'fax':
        return this.fax(nowMs, 'twilio', answeredBy);
      case 'machine_end_beep':
        return this.greetingOver(nowMs, 'twilio', answeredBy);
      case 'machine_end_silence':
      case 'machine_end_other':
      case 'machine_start':
        if (this.words === 'human' || this.words === 'screener') return this.record(nowMs, 'twilio', answeredBy, true);
        return answeredBy === 'machine_start' ? this.machineGreeting(nowMs, 'twilio', answeredBy) : this.greetingOver(nowMs, 'twilio', answeredBy);
      case 'human':
        return this.human(nowMs, 'twilio', answeredBy);
      case 'unknown':
        return this.record(nowMs, 'twilio', answeredBy, false);
    }
  }

  /** Everything the callee has said so far, as the model transcribed it. */
  transcript(nowMs: number, text: string): readonly OpeningAction[] {
    const words = classifyCalleeWords(text);
    if (words === undefined || words === this.words) return NO_ACTIONS;
    this.words = words;
    if (words === 'human') return this.human(nowMs, 'transcript', words);
    if (words === 'screener') {
      if (this.phase !== 'listening') return this.record(nowMs, 'transcript', words, true);
      this.decide('screener', 'transcript', words, nowMs);
      return this.open('identifying', 'identify');
    }
    if (words === 'machine-hint' && this.greetingMs(nowMs) <= HUMAN_MAX_SPEECH_MS) return this.record(nowMs, 'transcript', words, true);
    return this.machineGreeting(nowMs, 'transcript', words);
  }

  /** The agent's first turn (introduction or identification) has ended: the conversation has started. */
  agentTurnEnded(): void {
    if (this.phase === 'introducing' || this.phase === 'identifying') this.phase = 'conversation';
  }

  /** True while the agent must not be heard. */
  get holding(): boolean {
    return this.phase === 'listening' || this.phase === 'machine-greeting';
  }

  // ── the callee's speech ─────────────────────────────────────────────────────────────────────────

  private trackSpeech(nowMs: number, voiced: boolean): void {
    if (!voiced) {
      this.voicedRun = 0;
      return;
    }
    this.voicedRun++;
    if (this.voicedRun * FRAME_MS < SPEECH_START_MS) return;
    this.speechStartedAtMs ??= nowMs - SPEECH_START_MS;
    this.lastVoiceAtMs = nowMs;
  }

  /** How long the callee's speech has gone on, from its start to its latest voice (pauses inside included). */
  private greetingMs(nowMs: number): number {
    if (this.speechStartedAtMs === undefined) return 0;
    return (this.lastVoiceAtMs ?? nowMs) - this.speechStartedAtMs;
  }

  private listen(nowMs: number): readonly OpeningAction[] {
    if (this.speechStartedAtMs === undefined || this.lastVoiceAtMs === undefined) {
      if (nowMs < SILENT_CALLEE_MS) return NO_ACTIONS;
      this.decide('unknown', 'silence', 'no speech', nowMs);
      return this.open('introducing', 'introduce');
    }
    const quietMs = nowMs - this.lastVoiceAtMs;
    const spokeMs = this.greetingMs(nowMs);
    if (spokeMs <= HUMAN_MAX_SPEECH_MS && quietMs >= HUMAN_PAUSE_MS) {
      this.decide('human', 'short-greeting', `${spokeMs} ms of speech`, nowMs);
      return this.open('introducing', 'introduce');
    }
    if (spokeMs > HUMAN_MAX_SPEECH_MS && quietMs >= LONG_GREETING_PAUSE_MS) {
      this.decide('unknown', 'long-greeting', `${spokeMs} ms of speech`, nowMs);
      return this.open('introducing', 'introduce');
    }
    if (nowMs >= LISTEN_TIMEOUT_MS) {
      this.decide('unknown', 'timeout', 'still talking', nowMs);
      return this.open('introducing', 'introduce');
    }
    return NO_ACTIONS;
  }

  private awaitGreetingEnd(nowMs: number): readonly OpeningAction[] {
    const quietSinceMs = Math.max(this.lastVoiceAtMs ?? this.machineSinceMs, this.machineSinceMs);
    if (nowMs - quietSinceMs >= GREETING_END_SILENCE_MS) return this.leaveVoicemail(nowMs, 'greeting-end', 'quiet');
    if (nowMs - this.machineSinceMs >= MAX_GREETING_MS) return this.leaveVoicemail(nowMs, 'timeout', 'still talking');
    return NO_ACTIONS;
  }

  // ── verdicts ────────────────────────────────────────────────────────────────────────────────────

  private human(nowMs: number, signal: VerdictSignal, value: string): readonly OpeningAction[] {
    if (this.phase !== 'listening') return this.record(nowMs, signal, value, !this.upgradesUnknown('human', signal, nowMs));
    this.decide('human', signal, value, nowMs);
    return this.open('introducing', 'introduce');
  }

  private fax(nowMs: number, signal: VerdictSignal, value: string): readonly OpeningAction[] {
    if (!this.beforeConversation) return this.record(nowMs, signal, value, true);
    this.decide('fax', signal, value, nowMs);
    this.phase = 'ended';
    return ['hang-up'];
  }

  /** The machine is recording now (a beep, or Twilio's end-of-greeting verdict). */
  private greetingOver(nowMs: number, signal: VerdictSignal, value: string): readonly OpeningAction[] {
    if (!this.beforeConversation) return this.record(nowMs, signal, value, true);
    const speaking = this.phase === 'introducing' || this.phase === 'identifying';
    if (this.verdict?.answeredBy !== 'machine') this.decide('machine', signal, value, nowMs);
    else this.record(nowMs, signal, value, false);
    const next = this.finishOnMachine();
    return speaking ? ['stop-agent', next] : [next];
  }

  /** A machine, still greeting: hold the agent until the greeting ends. */
  private machineGreeting(nowMs: number, signal: VerdictSignal, value: string): readonly OpeningAction[] {
    if (!this.beforeConversation || this.phase === 'machine-greeting') return this.record(nowMs, signal, value, this.phase !== 'machine-greeting');
    const speaking = this.phase === 'introducing' || this.phase === 'identifying';
    this.decide('machine', signal, value, nowMs);
    if (this.onMachine === 'hang-up') return speaking ? ['stop-agent', this.finishOnMachine()] : [this.finishOnMachine()];
    this.phase = 'machine-greeting';
    this.machineSinceMs = nowMs;
    return speaking ? ['stop-agent'] : NO_ACTIONS;
  }

  private leaveVoicemail(nowMs: number, signal: VerdictSignal, value: string): readonly OpeningAction[] {
    this.record(nowMs, signal, value, false);
    return [this.finishOnMachine()];
  }

  private finishOnMachine(): OpeningAction {
    this.phase = this.onMachine === 'hang-up' ? 'ended' : 'voicemail';
    return this.onMachine === 'hang-up' ? 'hang-up' : 'leave-voicemail';
  }

  private get beforeConversation(): boolean {
    return this.phase === 'listening' || this.phase === 'machine-greeting' || this.phase === 'introducing' || this.phase === 'identifying';
  }

  /** An `unknown` verdict (the agent spoke on silence or a long hello) is replaced by the first real one after it. */
  private upgradesUnknown(answeredBy: CalleeKind, decidedBy: VerdictSignal, nowMs: number): boolean {
    if (this.verdict?.answeredBy !== 'unknown' || !this.beforeConversation) return false;
    this.verdict = { answeredBy, decidedBy, atMs: nowMs };
    return true;
  }

  private decide(answeredBy: CalleeKind, decidedBy: VerdictSignal, value: string, atMs: number): void {
    this.verdict = { answeredBy, decidedBy, atMs };
    this.signals.push({ signal: decidedBy, value, atMs, ignored: false });
  }

  private record(atMs: number, signal: VerdictSignal, value: string, ignored: boolean): readonly OpeningAction[] {
    this.signals.push({ signal, value, atMs, ignored });
    return NO_ACTIONS;
  }

  private open(phase: 'introducing' | 'identifying', action: OpeningAction): readonly OpeningAction[] {
    this.phase = phase;
    return [action];
  }
}
