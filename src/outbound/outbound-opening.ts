import type { AgentCues, VoicemailSetting } from '../agents/agent.js';
import { TWILIO_FRAME_BYTES } from '../audio/format.js';
import { MULAW_SILENCE_BYTE } from '../audio/mulaw.js';
import type { CalleeVerdict, TwilioAnsweredBy } from '../domain/answered-by.js';
import type { CallEvent } from '../observability/call-events.js';
import { CalleeListener } from './callee-listener.js';
import type { OpeningAction } from './callee-verdict.js';

/**
 * The first seconds of a call we placed, between the callee's answer and the conversation (docs/outbound.md):
 *
 * - **Don't talk over the callee.** The model hears the callee from the start (its transcript is one of the
 *   signals), but nothing it says reaches the phone until the verdicts (callee-verdict.ts) release the agent: after
 *   the callee's hello and a pause, on Twilio's `human`, or after a short silence. Whatever the model generated
 *   before that, even if it is still streaming, is dropped by generation (AgentTurn numbers them).
 * - **The agent's first sentence is not cut.** From the release until that sentence has played (its end found in
 *   the model's transcript, at most PROTECTED_SPEECH_MAX_MS), the model hears silence instead of the callee: a
 *   late "Hello?" cannot interrupt it, so the introduction is not restarted. Our own detectors still hear it all.
 * - **Machines and screeners.** The verdicts' actions become cues: a screener gets a brief identification; a
 *   machine, once its greeting has ended, the voicemail (then the call hangs up when it has played); a fax, or a
 *   machine for an agent that leaves none, a hang-up.
 *
 * Every signal and verdict is published on the call's events; the verdict goes into the call summary.
 */

/** The agent's first sentence is protected this long at most. */
export const PROTECTED_SPEECH_MAX_MS = 4_000;
/** Twilio plays what we send a little after we send it (its buffer, the network): the protection lasts that much longer. */
export const PLAYOUT_MARGIN_MS = 300;
/** The end of a sentence in the model's transcript. */
const SENTENCE_END = /[.!?…](\s|$)/;
const SILENT_FRAME = new Uint8Array(TWILIO_FRAME_BYTES).fill(MULAW_SILENCE_BYTE);

export interface OpeningHost {
  /** A cue for the model (the call publishes it). */
  sendText(text: string): void;
  /** The agent may be heard from now on: called once, at the first release. */
  released(): void;
  /** A machine answered while the agent's first turn played: cut what the callee has not heard. */
  cutAgentTurn(): void;
  /** Leave the voicemail with this cue, then hang up once it has played. */
  leaveVoicemail(cue: string): void;
  hangUp(reason: 'answered-by-fax' | 'answered-by-machine'): void;
  publish(event: CallEvent): void;
  /** The latest model generation's number (AgentTurn.latestGeneration). */
  latestGeneration(): number;
}

export interface OpeningSettings {
  /** The agent's outbound greeting: the cue that starts its introduction. */
  introduction: string;
  cues: Pick<AgentCues, 'screening' | 'voicemailMessage' | 'voicemailCompose'>;
  voicemail: VoicemailSetting;
  /** `performance.now()` when the callee's audio started (the stream's start). */
  startedAtMs: number;
  now?: () => number;
}

export class OutboundOpening {
  private readonly listener: CalleeListener;
  private readonly now: () => number;
  /** Generations up to this one were made while the agent was held (undefined: nothing released yet). */
  private releasedAfter: number | undefined;
  private releasedAtMs = 0;
  /** The agent's first turn after the latest release: its generation, its audio so far, where its first sentence ends. */
  private speaking: { generation: number; firstAudioAtMs: number; audioMs: number; text: string; firstSentenceMs: number | undefined } | undefined;
  private speakingEnded = false;
  private publishedSignals = 0;
  private publishedVerdict: CalleeVerdict | undefined;

  constructor(
    private readonly host: OpeningHost,
    private readonly settings: OpeningSettings,
  ) {
    this.listener = new CalleeListener(settings.voicemail === 'hang-up' ? 'hang-up' : 'voicemail');
    const clock = settings.now ?? (() => performance.now());
    this.now = () => clock() - settings.startedAtMs;
  }

  /** Who answered, so far: for the call summary. */
  get verdict(): CalleeVerdict | undefined {
    return this.listener.verdicts.verdict;
  }

  /** The agent is held: the model may be talking, but nothing of it reaches the callee. */
  get holding(): boolean {
    return this.listener.verdicts.holding;
  }

  /** One frame of the callee's audio; what the model should hear of it (silence while the agent's first sentence is protected). */
  calleeFrame(mulaw: Uint8Array): Uint8Array {
    const nowMs = this.now();
    this.act(this.listener.frame(nowMs, mulaw));
    return this.protecting(nowMs) && mulaw.length === TWILIO_FRAME_BYTES ? SILENT_FRAME : mulaw;
  }

  /** A fragment of the model's transcript of the callee. */
  calleeSaid(fragment: string): void {
    this.act(this.listener.transcript(this.now(), fragment));
  }

  twilioAnsweredBy(answeredBy: TwilioAnsweredBy): void {
    this.act(this.listener.twilio(this.now(), answeredBy));
  }

  /** Whether the model's output of `generation` may reach the callee. */
  plays(generation: number): boolean {
    return !this.holding && this.releasedAfter !== undefined && generation > this.releasedAfter;
  }

  /** `durationMs` of the agent's audio of `generation` went to the callee. */
  agentAudio(generation: number, durationMs: number): void {
    if (this.speakingEnded) return;
    this.speaking ??= { generation, firstAudioAtMs: this.now(), audioMs: 0, text: '', firstSentenceMs: undefined };
    if (this.speaking.generation === generation) this.speaking.audioMs += durationMs;
  }

  /** Transcript of the agent's speech in `generation`: where its first sentence ends. */
  agentSaid(generation: number, text: string): void {
    const speaking = this.speaking;
    if (speaking === undefined || speaking.generation !== generation || speaking.firstSentenceMs !== undefined) return;
    speaking.text += text;
    if (SENTENCE_END.test(speaking.text)) speaking.firstSentenceMs = speaking.audioMs;
  }

  /** A model turn ended: true when it was held (the call forgets it: no watchdog, no tools, no turn counted). */
  agentTurnEnded(generation: number): boolean {
    if (!this.plays(generation)) return true;
    if (this.speaking?.generation === generation && !this.speakingEnded) {
      this.speakingEnded = true;
      this.listener.verdicts.agentTurnEnded();
    }
    return false;
  }

  private protecting(nowMs: number): boolean {
    const phase = this.listener.verdicts.phase;
    if ((phase !== 'introducing' && phase !== 'identifying') || this.speakingEnded) return false;
    const speaking = this.speaking;
    if (speaking === undefined) return nowMs - this.releasedAtMs < PROTECTED_SPEECH_MAX_MS;
    return nowMs < speaking.firstAudioAtMs + Math.min(speaking.firstSentenceMs ?? PROTECTED_SPEECH_MAX_MS, PROTECTED_SPEECH_MAX_MS) + PLAYOUT_MARGIN_MS;
  }

  private act(actions: readonly OpeningAction[]): void {
    this.publishNews();
    for (const action of actions) {
      switch (action) {
        case 'introduce':
          this.release();
          this.host.sendText(this.settings.introduction);
          break;
        case 'identify':
          this.release();
          this.host.sendText(this.settings.cues.screening);
          break;
        case 'stop-agent':
          this.releasedAfter = this.host.latestGeneration();
          this.host.cutAgentTurn();
          break;
        case 'leave-voicemail':
          this.release();
          this.host.leaveVoicemail(this.voicemailCue());
          break;
        case 'hang-up':
          this.host.hangUp(this.verdict?.answeredBy === 'fax' ? 'answered-by-fax' : 'answered-by-machine');
          break;
      }
    }
  }

  /** From here on, the model's next generation plays; the first release starts the call's clocks. */
  private release(): void {
    const first = this.releasedAfter === undefined;
    this.releasedAfter = this.host.latestGeneration();
    this.releasedAtMs = this.now();
    this.speaking = undefined;
    this.speakingEnded = false;
    if (first) this.host.released();
  }

  private voicemailCue(): string {
    const { voicemail, cues } = this.settings;
    if (typeof voicemail === 'object' && 'message' in voicemail) return cues.voicemailMessage.replace('{message}', voicemail.message);
    return cues.voicemailCompose.replace('{instructions}', typeof voicemail === 'object' ? voicemail.instructions : '');
  }

  /** Signals and verdict changes since the last look, as call events. */
  private publishNews(): void {
    const { signals, verdict } = this.listener.verdicts;
    while (this.publishedSignals < signals.length) {
      const { signal, value, atMs, ignored } = signals[this.publishedSignals++]!;
      this.host.publish({ type: 'calleeSignal', signal, value, atMs, ignored });
    }
    if (verdict !== undefined && verdict !== this.publishedVerdict) {
      this.publishedVerdict = verdict;
      this.host.publish({ type: 'answeredBy', ...verdict });
    }
  }
}
