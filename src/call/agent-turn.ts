/**
 * Decides, per model event, which generation agent audio belongs to and when the agent's turn has ended,
 * on the real Live service's behaviour rather than on the documented sequence alone
 * (docs/real-service-behaviour.md lists the quirks and their sources).
 *
 * Documented sequences (Live API reference, `BidiGenerateContentServerContent`):
 *   audio … → generationComplete → turnComplete                 (a whole reply)
 *   audio … → interrupted → turnComplete                         (barge-in; no generationComplete)
 * Seen on the real service:
 *   - a turn ended by `generationComplete` alone, never a `turnComplete` (kazunori279/interpretab README);
 *   - a turn ended by `turnComplete` alone, with no content at all (python-genai#2117, empty turns);
 *   - a lone `interrupted`: no caller speech, no `turnComplete` after it (python-genai#2333);
 *   - audio of the cut generation still arriving after `interrupted` (N.E.K.O#1777 "late continuation
 *     chunks", langwatch/scenario#907 "late event after interrupt").
 *
 * How audio after an `interrupted` is told apart — interrupted generation (drop) or a new one (play):
 * the service stops the cut generation when it sends `interrupted`, so what can still follow is only what
 * was already in flight: it arrives at once, as a short burst. A new generation needs the caller to finish
 * speaking (the reply to the barge-in) or at least the model's response latency. So audio after the cut is
 * the new generation as soon as any of these holds:
 *   1. the cut turn has been closed (`turnComplete`, or a stray `generationComplete`);
 *   2. the caller has finished speaking since the cut (our own speech detector on Twilio's audio);
 *   3. the model started a tool call since the cut;
 *   4. it arrives LATE_AUDIO_WINDOW_MS or more after the cut (measured from the cut, not chained from one
 *      dropped chunk to the next, so a reply that streams right after a phantom cut is never silenced whole).
 * Only audio that satisfies none of them is dropped. Transcripts are not used: input transcripts arrive while
 * the caller is still speaking and in no guaranteed order relative to audio (Live API reference).
 *
 * With local turn detection the call cuts the agent itself (`cut`), at the caller's onset, and tells the model with
 * `activityStart`. The model keeps generating until that signal reaches it, so rule 4 waits for the model's own
 * `interrupted` and runs from there; until then only rules 1–3 let audio through. With its automatic detection
 * disabled the model answers only after `activityEnd` (Live API guide, voice activity detection), which the call
 * sends when the caller has finished: rule 2.
 *
 * When a turn ends: at `generationComplete` (everything has been generated, the model merely assumes
 * real-time playback before `turnComplete`; LiveKit agents#5821 measured `turnComplete` arriving at the
 * estimated playback end), else at `turnComplete`, else — for a cut turn nobody closed — when the next
 * generation begins. Each turn ends exactly once, whichever of those arrive.
 *
 * Every generation gets a number, counting up from 1 (an empty turn too), so the call can tell a generation that
 * began while it held the agent back (an outbound call's opening, src/outbound/outbound-opening.ts) from a later one.
 */

/** In-flight audio of a cut generation arrives right behind `interrupted`; anything later is a new generation. */
export const LATE_AUDIO_WINDOW_MS = 500;
/**
 * The model times a turn as if its audio played in real time from the first chunk (the service sends
 * `turnComplete` then). An `interrupted` after `generationComplete` and within this much of that moment
 * or later cuts nothing the model still counts as playing: with no `turnComplete` (generationComplete-only
 * models) it is the phantom interrupt, and clearing Twilio would only drop words the model thinks were said.
 */
export const PLAYBACK_END_MARGIN_MS = 250;

export interface TurnEnd {
  /** Which generation ended. */
  generation: number;
  /** The caller cut this turn (it was already counted at the barge-in). */
  interrupted: boolean;
  /** What ended it. `nextGeneration`: a cut turn that the model never closed, ended by its successor. */
  by: 'generationComplete' | 'turnComplete' | 'nextGeneration';
  /** The turn carried audio or a tool call (false: an empty turn). */
  hadContent: boolean;
}

export type AudioDecision =
  | { play: true; /** A cut turn left open ends here, before this audio's turn begins. */ ended?: TurnEnd }
  | { play: false };

export type InterruptDecision =
  | { bargeIn: false; reason: 'nothing-playing' | 'already-cut' }
  /** `newTurnCut`: a generation still in progress was cut; false when it had already finished generating. */
  | { bargeIn: true; newTurnCut: boolean };

interface Generation {
  id: number;
  hadContent: boolean;
  /** When its first audio arrived, and how much audio it has sent (ms at real-time playback). */
  firstAudioAtMs?: number;
  audioMs: number;
  /** Its end has been reported (generationComplete seen, or closed because a new generation began). */
  ended: boolean;
  /** When `interrupted` cut it (or the call did: then when the model confirmed it, once it has). */
  cutAtMs?: number;
  /** The call cut it and the model has not said `interrupted` yet: everything it still sends is late. */
  cutUnconfirmed?: boolean;
  callerDoneSinceCut: boolean;
}

export class AgentTurn {
  /** The latest generation whose `turnComplete` has not arrived (undefined: the model is idle). */
  private generation: Generation | undefined;
  private generations = 0;

  constructor(private readonly lateAudioWindowMs = LATE_AUDIO_WINDOW_MS) {}

  /** An audio chunk of `durationMs` from the model at `nowMs`. */
  audio(nowMs: number, durationMs: number): AudioDecision {
    const g = this.generation;
    let decision: AudioDecision = { play: true };
    if (g?.cutAtMs !== undefined) {
      if (this.isLateAudioOfCut(g, nowMs)) {
        return { play: false };
      }
      decision = { play: true, ...this.beginGeneration(g) };
    } else if (g === undefined || g.ended) {
      decision = { play: true, ...this.beginGeneration(g) };
    }
    const current = this.generation as Generation;
    current.hadContent = true;
    current.firstAudioAtMs ??= nowMs;
    current.audioMs += durationMs;
    return decision;
  }

  /** A tool call: content of the current generation, or the start of a new one (also after a cut). */
  toolCall(): TurnEnd | undefined {
    const g = this.generation;
    if (g === undefined || g.ended || g.cutAtMs !== undefined) return this.beginGeneration(g).ended;
    g.hadContent = true;
    return undefined;
  }

  interrupted(nowMs: number): InterruptDecision {
    const g = this.generation;
    // After turnComplete nothing of ours is being generated: a lone `interrupted` then cuts nothing, and
    // clearing Twilio would only drop words the model believes were said (python-genai#2333).
    if (g === undefined) return { bargeIn: false, reason: 'nothing-playing' };
    if (g.cutAtMs !== undefined) {
      // The model confirms the call's own cut: what was in flight behind this arrives from now.
      if (g.cutUnconfirmed === true) {
        g.cutUnconfirmed = false;
        g.cutAtMs = nowMs;
      }
      return { bargeIn: false, reason: 'already-cut' };
    }
    if (g.ended && (g.firstAudioAtMs === undefined || nowMs >= g.firstAudioAtMs + g.audioMs - PLAYBACK_END_MARGIN_MS)) {
      return { bargeIn: false, reason: 'nothing-playing' };
    }
    g.cutAtMs = nowMs;
    g.callerDoneSinceCut = false;
    return { bargeIn: true, newTurnCut: !g.ended };
  }

  /**
   * The call cut the agent itself (local turn detection heard the caller talk over it) at `nowMs`. Whatever the model
   * was generating is cut; a generation it had finished cannot send more, so only an unfinished one awaits the
   * model's `interrupted`.
   */
  cut(nowMs: number): void {
    const g = this.generation;
    if (g === undefined || g.cutAtMs !== undefined) return;
    g.cutAtMs = nowMs;
    g.cutUnconfirmed = !g.ended;
    g.callerDoneSinceCut = false;
  }

  generationComplete(): TurnEnd | undefined {
    const g = this.generation;
    if (g !== undefined && g.cutAtMs !== undefined) {
      // Not sent for a cut turn by the documentation; if it comes, it closes the cut generation.
      const end = g.ended ? undefined : ({ generation: g.id, interrupted: true, by: 'generationComplete', hadContent: g.hadContent } as const);
      this.generation = { id: g.id, hadContent: g.hadContent, ended: true, audioMs: 0, callerDoneSinceCut: false };
      return end;
    }
    if (g === undefined || g.ended) {
      // A generation with nothing in it (an empty turn); a turnComplete may still follow it.
      const id = ++this.generations;
      this.generation = { id, hadContent: false, ended: true, audioMs: 0, callerDoneSinceCut: false };
      return { generation: id, interrupted: false, by: 'generationComplete', hadContent: false };
    }
    g.ended = true;
    return { generation: g.id, interrupted: false, by: 'generationComplete', hadContent: g.hadContent };
  }

  turnComplete(): TurnEnd | undefined {
    const g = this.generation;
    this.generation = undefined;
    if (g === undefined) return { generation: ++this.generations, interrupted: false, by: 'turnComplete', hadContent: false }; // the empty turn
    if (g.ended) return undefined; // already ended at generationComplete (or by its successor)
    return { generation: g.id, interrupted: g.cutAtMs !== undefined, by: 'turnComplete', hadContent: g.hadContent };
  }

  /** Our speech detector heard the caller stop talking. */
  callerSpeechEnded(nowMs: number): void {
    const g = this.generation;
    if (g?.cutAtMs !== undefined && nowMs >= g.cutAtMs) g.callerDoneSinceCut = true;
  }

  /** A new model connection took over after a failure: whatever was being generated is gone. */
  reset(): void {
    this.generation = undefined;
  }

  /** The latest generation's number (0 before the first). */
  get latestGeneration(): number {
    return this.generations;
  }

  /** True while audio would be dropped as the late part of a cut generation. */
  get cutInProgress(): boolean {
    return this.generation?.cutAtMs !== undefined;
  }

  private isLateAudioOfCut(g: Generation, nowMs: number): boolean {
    return g.cutAtMs !== undefined && !g.callerDoneSinceCut && (g.cutUnconfirmed === true || nowMs - g.cutAtMs < this.lateAudioWindowMs);
  }

  private beginGeneration(previous: Generation | undefined): { ended?: TurnEnd } {
    this.generation = { id: ++this.generations, hadContent: true, ended: false, audioMs: 0, callerDoneSinceCut: false };
    if (previous === undefined || previous.ended) return {};
    // Only a cut generation can be left open here: an uncut one ends at generationComplete or turnComplete.
    return { ended: { generation: previous.id, interrupted: previous.cutAtMs !== undefined, by: 'nextGeneration', hadContent: previous.hadContent } };
  }
}
