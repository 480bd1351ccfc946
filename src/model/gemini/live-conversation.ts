import { HeldAudio } from '../../audio/held-audio.js';
import { noSwitches, type ConversationEvent, type ConversationStats, type ModelLog, type ReconnectReason, type RealtimeConversation, type SessionSwitchReason, type ToolAnswer } from '../realtime-model.js';
import type { GeminiLiveSession, SessionEvent } from './live-session.js';

export type OpenSession = (resumptionHandle: string | undefined, onEvent: (event: SessionEvent) => void) => Promise<GeminiLiveSession>;

export interface ConversationOptions {
  open: OpenSession;
  log: ModelLog;
  onEvent: (event: ConversationEvent) => void;
  /** Every resumable handle, as it arrives (e.g. to store where another instance can resume the call). */
  onResumptionHandle?: (handle: string) => void;
  /** Resume this earlier session instead of starting a new one (a call taken over from another instance). */
  initialResumptionHandle?: string;
  /** Delays before each reconnect attempt after an unexpected close; its length bounds the attempts. */
  reconnectDelaysMs?: readonly number[];
  /** What to change about a close, for the log (live-errors.ts), when there is something to say. */
  explainClose?: (code: number, reason: string) => string | undefined;
}

export const DEFAULT_RECONNECT_DELAYS_MS = [0, 250, 1_000, 2_500] as const;
/** Texts (cues, keypad digits) held while sessions switch; beyond it the oldest go. */
const MAX_HELD_TEXTS = 100;
/** After a goAway, a handover waits for the current model turn, but never closer to the deadline than this. */
const HANDOVER_DEADLINE_MARGIN_MS = 5_000;
/** At a turn boundary, the service sends a fresh resumption handle shortly after `turnComplete`. */
const FRESH_HANDLE_WAIT_MS = 1_000;

/**
 * One call's conversation with Gemini Live across however many sessions it takes. A Live connection
 * lasts about ten minutes and may fail at any time; the caller must not notice either.
 *
 * Resumption: every `sessionResumptionUpdate` that is resumable replaces the handle. Caller audio
 * sent since that handle is kept, because a session resumed from the handle has not heard it. So
 * when a new session takes over (after `goAway`, a failure or a stall) it first gets that audio
 * again, then what arrived during the switch, and nothing the caller said is lost.
 *
 * Handover after `goAway` happens at a turn boundary (no model turn, no tool call pending) with the
 * handle issued after that turn. The old connection is closed first and the new one opened after: the
 * service refuses (close 1011) to resume a session while an earlier connection of it is still open
 * (aicc2025/sip-to-ai#14, verified there against the live service), so opening first would only burn
 * attempts until the service itself closed the old connection at the goAway deadline (about 50 s later on
 * the real service). Caller audio of the gap is held and sent to the new session, so none is lost; at a
 * turn boundary no agent audio is in flight. docs/real-service-behaviour.md has the details.
 */
export class LiveConversation implements RealtimeConversation {
  private current: GeminiLiveSession | undefined;
  private handle: string | undefined;
  /**
   * Caller input sent since the latest handle, then what no session has had yet: audio with the activity marks in
   * their places (capped: held-audio.ts).
   */
  private readonly callerInput = new HeldAudio();
  /** The call has said the caller is talking (activityStart without its activityEnd yet), and was when the handle came. */
  private activityOpen = false;
  private activityOpenAtHandle = false;
  private heldTexts: string[] = [];
  private switching = false;
  private ended = false;
  private modelTurnActive = false;
  private readonly pendingToolCalls = new Set<string>();
  private handoverWanted = false;
  private handoverTimer: NodeJS.Timeout | undefined;
  private freshHandleTimer: NodeJS.Timeout | undefined;
  private readonly reconnectDelaysMs: readonly number[];
  private connections = 0;
  private readonly switches = noSwitches();

  constructor(private readonly options: ConversationOptions) {
    this.reconnectDelaysMs = options.reconnectDelaysMs ?? DEFAULT_RECONNECT_DELAYS_MS;
    this.handle = options.initialResumptionHandle;
  }

  /** Opens the first session; rejects if it cannot be set up (the call then ends). */
  async start(): Promise<void> {
    const session = await this.openSession(this.handle);
    if (this.ended) {
      session.close(); // the call ended while we were connecting
      return;
    }
    this.current = session;
    this.sendHeldTo(session); // caller input and texts that arrived during setup
  }

  get stats(): ConversationStats {
    return { connections: this.connections, switches: { ...this.switches } };
  }

  /**
   * Caller audio (16 kHz PCM16 LE): kept until a resumption handle covers it, and sent to the live session now, or
   * held unsent while a new one takes over (or the current one is closing under us: the close handler recovers).
   */
  sendAudio(pcm16k: Uint8Array): void {
    if (this.ended) return;
    this.callerInput.append(pcm16k);
    this.sendUnsent();
  }

  /** The call heard the caller start talking (local turn detection); kept in order with the audio, like it. */
  activityStart(): void {
    if (this.ended) return;
    this.activityOpen = true;
    this.callerInput.appendActivity('start');
    this.sendUnsent();
  }

  activityEnd(): void {
    if (this.ended) return;
    this.activityOpen = false;
    this.callerInput.appendActivity('end');
    this.sendUnsent();
  }

  private sendUnsent(): void {
    if (!this.switching && this.current !== undefined) this.callerInput.sendUnsent(this.current);
  }

  /** Realtime text (cues, keypad digits); held like audio while sessions switch. */
  sendText(text: string): void {
    if (this.ended) return;
    if (this.switching || this.current === undefined || !this.current.sendText(text)) {
      this.heldTexts.push(text);
      if (this.heldTexts.length > MAX_HELD_TEXTS) this.heldTexts.shift();
    }
  }

  sendToolAnswers(answers: readonly ToolAnswer[]): void {
    for (const answer of answers) this.pendingToolCalls.delete(answer.id);
    this.current?.sendToolAnswers(answers);
  }

  /** Continue in a fresh session resumed from the latest handle (a stalled model). */
  reconnect(reason: ReconnectReason): void {
    if (this.ended || this.switching) return;
    this.switches[reason]++;
    void this.switchSession(reason, this.current);
  }

  private reportHandle(handle: string): void {
    try {
      this.options.onResumptionHandle?.(handle);
    } catch (error) {
      this.options.log.warn({ err: error }, 'storing the resumption handle failed');
    }
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.handoverTimer);
    clearTimeout(this.freshHandleTimer);
    this.current?.close();
    this.current = undefined;
  }

  // ── events from the sessions ────────────────────────────────────────────────────────────────────

  private onSessionEvent(session: GeminiLiveSession, event: SessionEvent): void {
    if (session !== this.current) {
      // An old session after a switch: nothing it says reaches the call any more.
      if (event.type === 'closed' && !event.byUs) this.options.log.debug({ code: event.code }, 'previous Live session closed');
      return;
    }
    switch (event.type) {
      case 'resumptionUpdate':
        if (event.resumable && event.handle !== undefined) {
          this.handle = event.handle;
          this.callerInput.forgetSent();
          this.activityOpenAtHandle = this.activityOpen;
          this.reportHandle(event.handle);
          if (this.handoverWanted && this.atTurnBoundary()) this.handoverNow();
        }
        return;
      case 'goAway':
        this.onGoAway(event.timeLeftMs);
        return;
      case 'closed':
        if (!event.byUs) this.onUnexpectedClose(session, event.code, event.reason);
        return;
      case 'audio':
      case 'outputTranscript':
        this.modelTurnActive = true;
        break;
      case 'toolCall':
        this.modelTurnActive = true;
        for (const call of event.calls) this.pendingToolCalls.add(call.id);
        break;
      case 'toolCallCancellation':
        for (const id of event.ids) this.pendingToolCalls.delete(id);
        break;
      case 'turnComplete':
        this.modelTurnActive = false;
        if (this.handoverWanted && this.atTurnBoundary()) this.waitForFreshHandle();
        break;
      case 'interrupted':
      case 'generationComplete':
        // Some models end a turn with generationComplete alone, and an interrupted may never be followed by
        // a turnComplete (docs/real-service-behaviour.md): either ends the generation. The handover then
        // waits for the fresh handle the service sends once the turn is over (or the goAway deadline).
        this.modelTurnActive = false;
        break;
      case 'inputTranscript':
      case 'usage':
        break;
    }
    this.options.onEvent(event);
  }

  private atTurnBoundary(): boolean {
    return !this.modelTurnActive && this.pendingToolCalls.size === 0;
  }

  private onGoAway(timeLeftMs: number | undefined): void {
    if (this.handoverWanted || this.switching) return;
    this.handoverWanted = true;
    const deadlineMs = Math.max(0, (timeLeftMs ?? 10_000) - HANDOVER_DEADLINE_MARGIN_MS);
    this.options.log.info({ timeLeftMs, handoverWithinMs: deadlineMs, atTurnBoundary: this.atTurnBoundary() }, 'goAway: handing over to a new Live session');
    this.handoverTimer = setTimeout(() => this.handoverNow(), deadlineMs);
    this.handoverTimer.unref();
    if (this.atTurnBoundary()) this.handoverNow();
  }

  private waitForFreshHandle(): void {
    clearTimeout(this.freshHandleTimer);
    this.freshHandleTimer = setTimeout(() => this.handoverNow(), FRESH_HANDLE_WAIT_MS);
    this.freshHandleTimer.unref();
  }

  private handoverNow(): void {
    if (!this.handoverWanted || this.switching || this.ended) return;
    this.handoverWanted = false;
    clearTimeout(this.handoverTimer);
    clearTimeout(this.freshHandleTimer);
    this.switches.handover++;
    void this.switchSession('handover', this.current);
  }

  private onUnexpectedClose(session: GeminiLiveSession, code: number, reason: string): void {
    const advice = this.options.explainClose?.(code, reason);
    this.options.log.warn({ code, reason, ...(advice === undefined ? {} : { advice }) }, 'Live session closed unexpectedly; reconnecting');
    this.switches.connectionLost++;
    void this.switchSession('connectionLost', session);
  }

  // ── switching sessions ──────────────────────────────────────────────────────────────────────────

  /**
   * Opens the next session (resumed when a handle exists) and moves the call onto it. Caller audio
   * goes to the hold buffer from here until the new session has received the replay.
   */
  private async switchSession(reason: SessionSwitchReason, previous: GeminiLiveSession | undefined): Promise<void> {
    if (this.switching || this.ended) return;
    this.switching = true;
    this.handoverWanted = false;
    const startedAt = Date.now();
    // Close first: a resume is refused while the session's earlier connection is open (see the class comment).
    // Caller audio from here on is held for the new session.
    if (previous !== undefined && previous.isOpen) previous.close();
    const attempts = this.reconnectDelaysMs;

    let next: GeminiLiveSession | undefined;
    let handle = this.handle;
    for (const [attempt, delayMs] of attempts.entries()) {
      if (delayMs > 0) await sleep(delayMs);
      if (this.ended) return;
      try {
        next = await this.openSession(handle);
        break;
      } catch (error) {
        this.options.log.warn({ err: error, attempt: attempt + 1, resumed: handle !== undefined }, 'could not open the next Live session');
        // A handle the service refuses will not work on retry either; a fresh session beats dead air.
        if (handle !== undefined && /\(code 100[78]\)/.test((error as Error).message)) handle = undefined;
      }
    }
    if (this.ended) {
      next?.close();
      return;
    }
    if (next === undefined) {
      this.switching = false;
      this.ended = true;
      this.current = undefined;
      this.options.onEvent({ type: 'lost', reason: `no Live session after ${attempts.length} attempts` });
      return;
    }

    const resumed = handle !== undefined;
    const replayedMs = resumed ? this.callerInput.sentMs : 0;
    const bufferedMs = this.callerInput.unsentMs;
    // A resumed session has heard nothing since its handle (and if the caller was talking then, it hears the
    // activity open again first); a fresh one needs only what no session has had.
    if (resumed) {
      this.callerInput.markAllUnsent();
      if (this.activityOpenAtHandle) next.sendActivity('start');
    } else {
      this.callerInput.forgetSent();
    }
    this.current = next;
    this.modelTurnActive = false;
    this.pendingToolCalls.clear();
    this.sendHeldTo(next);
    this.switching = false;

    this.options.onEvent({
      type: 'sessionSwitched',
      reason,
      switchMs: Date.now() - startedAt,
      replayedMs,
      bufferedMs,
      resumed,
    });
  }

  private sendHeldTo(session: GeminiLiveSession): void {
    this.callerInput.sendUnsent(session);
    for (const text of this.heldTexts.splice(0)) session.sendText(text);
  }

  private async openSession(handle: string | undefined): Promise<GeminiLiveSession> {
    let opened: GeminiLiveSession | undefined;
    const early: SessionEvent[] = [];
    const session = await this.options.open(handle, (event) => {
      if (opened === undefined) early.push(event);
      else this.onSessionEvent(opened, event);
    });
    opened = session;
    this.connections++;
    for (const event of early) this.onSessionEvent(session, event);
    return session;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
