import {
  noSwitches,
  type ConversationEvent,
  type ConversationHooks,
  type ConversationSettings,
  type ConversationStats,
  type RealtimeConversation,
  type ToolAnswer,
  type ToolCall,
} from '../realtime-model.js';
import { CallerTurns, type HeardTurn } from './caller-turns.js';
import type { CallerTurn, ConversationJournal, ConversationScript, JournalReply, ScriptedReply, ScriptFactory } from './script.js';
import { syntheticSpeech, VOICE_SAMPLE_RATE_HZ } from './synthetic-voice.js';

/** How a scripted model paces its replies. */
export interface ScriptedTiming {
  /** From the end of a caller turn (or the last tool answer) to the first output. */
  responseLatencyMs: number;
  /** Agent audio per `audio` event. */
  chunkMs: number;
  /** How much faster than real time the audio is sent; the turn completes when it would have finished playing. */
  burstSpeed: number;
  /** The synthetic voice's pace. */
  msPerChar: number;
}

/** A model thinks a moment, streams its speech faster than real time in chunks, and paces its turn as it plays. */
export const DEFAULT_TIMING: ScriptedTiming = Object.freeze({ responseLatencyMs: 150, chunkMs: 200, burstSpeed: 4, msPerChar: 60 });

/** The longest caller turn whose audio a script gets (a monologue is cut; its duration is still told). */
export const MAX_TURN_AUDIO_MS = 30_000;
/** Input that arrives before the conversation has started waits, up to this much audio. */
const MAX_HELD_AUDIO_CHUNKS = 1_500;

interface ActiveReply {
  record: JournalReply;
  reply: ScriptedReply;
  audio: Int16Array;
  fragments: string[];
  fragmentsSent: number;
  samplesSent: number;
  /** Tool calls not answered yet; `answered` once the last one was. */
  pending: Set<string>;
  calls: ToolCall[];
  answered: boolean;
  anythingSent: boolean;
  streamStartedAtMs: number;
}

/** Input that waits until the conversation has started, in order: caller audio, or an activity mark. */
type HeldInput = Uint8Array | 'activityStart' | 'activityEnd';

/**
 * One conversation with a scripted model: the caller's turns (heard by an energy detector, marked by the call's
 * `activityStart`/`activityEnd` when it detects turns itself, or text from the call)
 * get the script's replies, spoken in the synthetic voice, paced like a realtime model: a moment's thought, audio
 * streamed ahead of playback with its transcript, `generationComplete` when all is sent, `turnComplete` when it
 * would have played. Caller activity during a reply interrupts it (after anything was sent: `interrupted`, its tool
 * calls cancelled, `turnComplete`). One connection, no resumption.
 */
export class ScriptedConversation implements RealtimeConversation {
  private script: ConversationScript | undefined;
  private readonly held: HeldInput[] = [];
  private readonly heldTexts: string[] = [];
  private turns: CallerTurns;
  /** false: the caller's speech does not cut a reply (the agent's `callerInterrupts`). */
  private callerInterrupts = true;
  private active: ActiveReply | undefined;
  private turnCount = 0;
  private callCount = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private connections = 0;
  private closed = false;

  constructor(
    private readonly settings: () => Promise<ConversationSettings>,
    private readonly hooks: ConversationHooks,
    private readonly makeScript: ScriptFactory,
    private readonly timing: ScriptedTiming,
    private readonly journal: ConversationJournal,
  ) {
    this.turns = this.callerTurns(false);
  }

  private callerTurns(manual: boolean): CallerTurns {
    // A script that throws costs its reply, never the call: the turn callbacks are guarded, not every frame.
    const listener = {
      started: () => {
        if (this.callerInterrupts) this.cutActiveReply();
      },
      ended: (turn: HeardTurn) => this.guard(() => this.onSpeechTurn(turn)),
    };
    return new CallerTurns(listener, MAX_TURN_AUDIO_MS, manual);
  }

  get stats(): ConversationStats {
    return { connections: this.connections, switches: noSwitches() };
  }

  async start(): Promise<void> {
    const settings = await this.settings();
    if (this.closed) return;
    const script = this.makeScript(settings);
    this.journal.agentName = settings.agentName;
    if (settings.turns?.detection === 'local') this.turns = this.callerTurns(true);
    this.callerInterrupts = settings.turns?.callerInterrupts ?? true;
    this.script = script;
    this.connections = 1;
    for (const input of this.held.splice(0)) this.take(input);
    for (const text of this.heldTexts.splice(0)) this.sendText(text);
  }

  sendAudio(audio: Uint8Array): void {
    if (this.closed) return;
    this.input(audio);
  }

  /** The call heard the caller start (and stop) talking: with local turn detection, that is the turn. */
  activityStart(): void {
    if (!this.closed) this.input('activityStart');
  }

  activityEnd(): void {
    if (!this.closed) this.input('activityEnd');
  }

  private input(input: HeldInput): void {
    if (this.script !== undefined) return this.take(input);
    this.held.push(typeof input === 'string' ? input : input.slice());
    if (this.held.length > MAX_HELD_AUDIO_CHUNKS) this.held.shift();
  }

  private take(input: HeldInput): void {
    if (input === 'activityStart') this.turns.activityStart();
    else if (input === 'activityEnd') this.turns.activityEnd();
    else this.turns.push(input);
  }

  sendText(text: string): void {
    if (this.closed) return;
    if (this.script === undefined) return void this.heldTexts.push(text);
    this.guard(() => this.onTextTurn({ kind: 'text', index: this.turnCount++, text }));
  }

  sendToolAnswers(answers: readonly ToolAnswer[]): void {
    if (this.closed) return;
    this.journal.toolAnswers.push(...answers);
    const reply = this.active;
    if (reply === undefined) return;
    for (const answer of answers) reply.pending.delete(answer.id);
    if (reply.pending.size > 0 || reply.calls.length === 0 || reply.answered) return;
    reply.answered = true;
    this.guard(() => {
      const ids = new Set(reply.calls.map((call) => call.id));
      const spoken = reply.reply.afterToolAnswers?.(this.journal.toolAnswers.filter((answer) => ids.has(answer.id)));
      if (spoken !== undefined) this.setSpeech(reply, spoken.text, spoken.audio);
      this.later(this.timing.responseLatencyMs, () => this.startStreaming(reply));
    });
  }

  /** One connection is all there is: nothing to reconnect to (the model does not offer `sessionResumption`). */
  reconnect(): void {
    this.hooks.log.debug({}, 'a scripted model has no connection to renew');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.journal.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // ── Caller turns ─────────────────────────────────────────────────────────────────────────────────

  private onSpeechTurn(heard: HeardTurn): void {
    const index = this.turnCount++;
    const durationMs = heard.endMs - heard.startMs;
    const reply = this.script?.reply({ kind: 'speech', index, durationMs, audio: heard.audio });
    const text = reply?.heard ?? `(caller speech ${(durationMs / 1000).toFixed(1)} s)`;
    const { startMs, endMs, levelDbfs, quietLevelDbfs } = heard;
    this.journal.callerTurns.push({ kind: 'speech', index, heard: text, startMs, endMs, levelDbfs, quietLevelDbfs });
    this.emit({ type: 'inputTranscript', text });
    if (reply !== undefined) this.startReply(index, reply);
  }

  private onTextTurn(turn: Extract<CallerTurn, { kind: 'text' }>): void {
    this.cutActiveReply(); // text is the caller's turn too, as realtime text is to a Live model
    this.journal.callerTurns.push(turn);
    const reply = this.script?.reply(turn);
    if (reply !== undefined) this.startReply(turn.index, reply);
  }

  /** The caller spoke (or the call sent text) while the model may be replying: the reply is cut. */
  private cutActiveReply(): void {
    const reply = this.active;
    if (reply === undefined) return;
    this.active = undefined;
    this.stopTimers();
    if (!reply.anythingSent) {
      reply.record.outcome = 'cancelled';
      return;
    }
    reply.record.outcome = 'interrupted';
    this.journal.interruptions++;
    this.emit({ type: 'interrupted' });
    if (reply.pending.size > 0) this.emit({ type: 'toolCallCancellation', ids: [...reply.pending] });
    this.emit({ type: 'turnComplete' });
  }

  // ── Replies ──────────────────────────────────────────────────────────────────────────────────────

  private startReply(turn: number, script: ScriptedReply): void {
    this.cutActiveReply(); // one reply at a time: a new turn ends whatever was still under way
    const record: JournalReply = { turn, text: script.text, outcome: 'pending' };
    this.journal.replies.push(record);
    const calls = (script.toolCalls ?? []).map(({ name, args }) => ({ id: `call-${++this.callCount}`, name, args }));
    const reply: ActiveReply = { record, reply: script, audio: new Int16Array(0), fragments: [], fragmentsSent: 0, samplesSent: 0, pending: new Set(calls.map((call) => call.id)), calls, answered: false, anythingSent: false, streamStartedAtMs: 0 };
    this.setSpeech(reply, script.text, script.audio);
    this.active = reply;
    this.later(this.timing.responseLatencyMs, () => {
      if (calls.length === 0) return this.startStreaming(reply);
      reply.anythingSent = true;
      this.journal.toolCalls.push(...calls);
      this.emit({ type: 'toolCall', calls });
    });
  }

  private setSpeech(reply: ActiveReply, text: string, audio: Int16Array | undefined): void {
    reply.record.text = text;
    reply.audio = audio ?? syntheticSpeech(text, [...text].length * this.timing.msPerChar);
    // Transcript fragments as realtime models stream them: word by word, each with its leading space.
    reply.fragments = text.match(/\s*\S+/g) ?? [];
  }

  private startStreaming(reply: ActiveReply): void {
    if (this.active !== reply) return;
    reply.record.outcome = 'playing';
    reply.streamStartedAtMs = performance.now();
    this.streamNext(reply);
  }

  private streamNext(reply: ActiveReply): void {
    if (this.active !== reply) return;
    const total = reply.audio.length;
    const end = Math.min(total, reply.samplesSent + (this.timing.chunkMs * VOICE_SAMPLE_RATE_HZ) / 1000);
    // The transcript keeps pace with the audio: the words whose share of the reply has been sent.
    const due = total === 0 ? reply.fragments.length : Math.ceil((reply.fragments.length * end) / total);
    for (const text of reply.fragments.slice(reply.fragmentsSent, due)) this.emit({ type: 'outputTranscript', text });
    reply.fragmentsSent = Math.max(reply.fragmentsSent, due);
    const chunk = reply.audio.subarray(reply.samplesSent, end);
    if (chunk.length > 0) this.emit({ type: 'audio', audio: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) });
    reply.samplesSent = end;
    reply.anythingSent = true;
    if (end < total) {
      const dueAtMs = reply.streamStartedAtMs + (end / VOICE_SAMPLE_RATE_HZ) * 1000 / this.timing.burstSpeed;
      this.later(dueAtMs - performance.now(), () => this.streamNext(reply));
      return;
    }
    this.emit({ type: 'generationComplete' });
    const playedAtMs = reply.streamStartedAtMs + (total / VOICE_SAMPLE_RATE_HZ) * 1000;
    this.later(playedAtMs - performance.now(), () => this.completeTurn(reply));
  }

  private completeTurn(reply: ActiveReply): void {
    if (this.active !== reply) return;
    this.active = undefined;
    reply.record.outcome = 'completed';
    this.emit({ type: 'turnComplete' });
  }

  // ── Plumbing ─────────────────────────────────────────────────────────────────────────────────────

  private emit(event: ConversationEvent): void {
    if (this.closed) return;
    try {
      this.hooks.onEvent(event);
    } catch (error) {
      this.hooks.log.error({ err: error, event: event.type }, 'call failed to handle a model event');
    }
  }

  /** A script that throws costs its reply, never the call. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.hooks.log.error({ err: error }, 'the scripted model failed on caller input');
    }
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.guard(action);
    }, Math.max(0, ms));
    this.timers.add(timer);
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
