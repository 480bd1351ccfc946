import type { AgentCues } from '../agents/agent.js';
import type { ToolAnswer, ToolCall } from '../model/realtime-model.js';
import type { CallEvent } from '../observability/call-events.js';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumber } from '../observability/redact.js';
import type { CallDetails } from '../domain/call-details.js';
import type { EndReason } from '../domain/end-reasons.js';
import { dialTwiml, sayAndHangUpTwiml, type CallControl, type CallUpdateResult } from '../telephony/twilio-rest.js';
import { ToolDispatcher } from '../tools/dispatcher.js';
import type { CallFinish, ToolCallInfo, ToolRegistry } from '../tools/tool.js';

/** Digits keyed in a row are sent together once the caller pauses this long (or presses #). */
export const KEYPAD_PAUSE_MS = 2_000;
/** A longer run of digits is sent at once, so the model is never kept waiting on a stuck key. */
const MAX_KEYPAD_DIGITS = 32;
/**
 * After end_call or transfer_call, the call ends this long after the request at the latest, even if
 * the goodbye never finished or Twilio stopped echoing marks. A goodbye is a few seconds of speech.
 */
export const FINISH_WATCHDOG_MS = 12_000;
/** A voicemail is longer than a goodbye: the call ends this long after it was cued at the latest. */
export const VOICEMAIL_WATCHDOG_MS = 60_000;


/** How a finish ends the call when nothing more precise was given: `end_call`, or how `transfer_call` transferred. */
function defaultFinishReason(action: CallFinish): EndReason {
  if (action.kind === 'hang-up') return 'agent-hung-up';
  return action.warm === undefined ? 'transferred' : 'transferred-warm';
}

/** Where the tools' answers and cues go: the call's model conversation. */
export interface ModelInput {
  sendToolAnswers(answers: readonly ToolAnswer[]): unknown;
  sendText(text: string): unknown;
}

/** Starts a warm transfer (src/telephony/warm-transfer.ts): the whisper kept for the person called, the call sent to `<Dial>`. */
export interface WarmTransfers {
  /** `whisper`: what Twilio says to the person called, in `language` (the agent's, for `<Say>`). */
  start(callSid: string, to: string, whisper: string, language?: string): Promise<CallUpdateResult>;
}

export interface CallToolsOptions {
  call: CallDetails;
  /** The agent's cues: keypad text, transfer failed, and what Twilio says for it (apology, nobody answered). */
  cues: AgentCues;
  /** The agent's language for Twilio's `<Say>`. */
  language: string | undefined;
  registry: ToolRegistry;
  callControl: CallControl;
  /** Warm transfers, on a Twilio call (a browser call has none: a warm transfer then fails, and the caller stays). */
  warmTransfers?: WarmTransfers;
  log: Logger;
  toolTimeoutMs: number;
  model: ModelInput;
  /** True while agent audio has been sent to Twilio and not yet confirmed played (marks outstanding). */
  agentAudioPending: () => boolean;
  /** Ends the call on our side (closes the media stream and the model session). */
  endCall: (reason: EndReason) => void;
  finishWatchdogMs?: number;
  keypadPauseMs?: number;
  /** The call's event stream: tool calls, their answers, cancellations, text sent to the model. */
  publish: (event: CallEvent) => void;
}

interface PendingFinish {
  action: CallFinish;
  /** How the call summary names the ending once the action is done (a transfer's depends on its outcome). */
  reason: EndReason;
  /** The model's turn after the tool answer (the goodbye) has completed. */
  replyFinished: boolean;
  executing: boolean;
  requestedAtMs: number;
  watchdog: NodeJS.Timeout;
}

/**
 * The tools of one phone call: runs the model's function calls, turns keypad presses into text for
 * the model, and ends or transfers the call once the agent's last words have been heard.
 *
 * Ending waits for two things: the model's turn after the end_call answer has completed (so the
 * goodbye has been generated in full) and every mark sent to Twilio has come back (so it has played).
 * Only then does the REST request go out. A watchdog ends the call anyway if either never happens.
 */
export class CallTools {
  private readonly dispatcher: ToolDispatcher;
  private readonly log: Logger;
  private finish: PendingFinish | undefined;
  private keypadDigits: string[] = [];
  private keypadTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** Start times of calls in progress, by id, for the durations a watcher sees. */
  private readonly toolCallStartedAtMs = new Map<string, number>();

  constructor(private readonly options: CallToolsOptions) {
    this.log = options.log;
    const call: ToolCallInfo = Object.freeze({
      ...options.call,
      finishAfterReply: (finish: CallFinish) => this.requestFinish(finish),
    });
    this.dispatcher = new ToolDispatcher({
      tools: options.registry,
      call,
      log: options.log,
      defaultTimeoutMs: options.toolTimeoutMs,
      send: (response) => {
        this.observeToolResult(response);
        return options.model.sendToolAnswers([response]);
      },
    });
  }

  /** Set while the REST request that ends or transfers the call is out: Twilio's `stop` may arrive first. */
  get endReasonInProgress(): EndReason | undefined {
    return this.finish?.executing === true ? this.finish.reason : undefined;
  }

  onToolCall(calls: readonly ToolCall[]): void {
    if (this.disposed) return;
    for (const { id, name, args } of calls) {
      this.toolCallStartedAtMs.set(id, Date.now());
      this.options.publish({ type: 'toolCall', id, name, args });
    }
    this.dispatcher.dispatch(calls);
  }

  onToolCallCancellation(ids: readonly string[]): void {
    for (const id of ids) this.toolCallStartedAtMs.delete(id); // cancelled calls are never answered
    this.options.publish({ type: 'toolCancelled', ids });
    this.dispatcher.cancel(ids);
  }

  /**
   * The call moved to another model connection. After a failure the new session knows nothing of calls
   * still running (an answer would be refused), and the turn that was playing is over.
   */
  onModelSessionSwitched(afterFailure: boolean): void {
    if (!afterFailure) return;
    this.dispatcher.abandon();
    if (this.finish !== undefined) {
      this.finish.replyFinished = true;
      this.tryFinish('session-switched');
    }
  }

  /** Calls the model repeated within one turn, answered from the first without running the tool again. */
  get repeatedCalls(): number {
    return this.dispatcher.repeatsAnswered;
  }

  onModelTurnComplete(): void {
    this.dispatcher.newTurn();
    if (this.finish === undefined) return;
    this.finish.replyFinished = true;
    this.tryFinish('goodbye-played');
  }

  /** AgentPlayout: Twilio confirmed everything sent so far has played. */
  onAgentAudioPlayed(): void {
    this.tryFinish('goodbye-played');
  }

  /**
   * The call itself decided to end (silence, time limit): the agent says goodbye with `cue`, and the
   * call hangs up once that has been heard, exactly as after end_call.
   */
  hangUpAfterGoodbye(cue: string, reason: 'caller-silent' | 'max-duration' | 'voicemail-left', watchdogMs?: number): void {
    if (this.requestFinish({ kind: 'hang-up' }, reason, watchdogMs)) this.sendText(cue);
  }

  /** Hangs up at once, with no goodbye: a fax, a machine the agent leaves no message on. */
  hangUpNow(reason: 'answered-by-fax' | 'answered-by-machine'): void {
    if (!this.requestFinish({ kind: 'hang-up' }, reason)) return;
    this.finish!.replyFinished = true;
    this.tryFinish('no-goodbye');
  }

  /** Answers tool calls the model made while it was held back (an outbound call's opening): not run, it must wait. */
  refuse(calls: readonly ToolCall[], reason: string, hint: string): void {
    const error = { status: 'error', retryable: true, message: reason, hint } as const;
    for (const { id, name } of calls) this.options.model.sendToolAnswers([{ id, name, response: { error } }]);
  }

  /**
   * The model is gone for good: Twilio itself apologises and hangs up (a REST redirect to <Say>),
   * rather than leaving the caller in dead air. Resolves when the request is done or has failed.
   */
  async apologizeAndHangUp(): Promise<void> {
    try {
      const result = await this.options.callControl.redirect(this.options.call.callSid, sayAndHangUpTwiml(this.options.cues.apology, this.options.language));
      this.log.info({ result }, 'asked Twilio to apologise and hang up');
    } catch (error) {
      this.log.error({ err: error }, 'could not redirect the call to the apology; closing the stream instead');
    }
  }

  /** A Twilio `dtmf` event: collected, then sent as text after a pause or `#`. */
  onKeypadDigit(digit: string): void {
    if (this.disposed) return;
    if (digit === '#') {
      this.flushKeypad('#');
      return;
    }
    this.keypadDigits.push(digit);
    clearTimeout(this.keypadTimer);
    if (this.keypadDigits.length >= MAX_KEYPAD_DIGITS) {
      this.flushKeypad('limit');
      return;
    }
    this.keypadTimer = setTimeout(() => this.flushKeypad('pause'), this.options.keypadPauseMs ?? KEYPAD_PAUSE_MS);
  }

  /** The call has ended: stop every tool, answer nothing more, drop pending keypad input. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dispatcher.close();
    clearTimeout(this.keypadTimer);
    if (this.finish !== undefined) clearTimeout(this.finish.watchdog);
  }

  private observeToolResult(response: ToolAnswer): void {
    const startedAtMs = this.toolCallStartedAtMs.get(response.id);
    this.toolCallStartedAtMs.delete(response.id);
    this.options.publish({
      type: 'toolResult',
      id: response.id,
      name: response.name,
      ok: 'output' in response.response,
      durationMs: startedAtMs === undefined ? 0 : Date.now() - startedAtMs,
      response: response.response as Record<string, unknown>,
    });
  }

  /** Text for the model (cues, keypad digits), published first so listeners see it in order. */
  private sendText(text: string): void {
    this.options.publish({ type: 'textToModel', text });
    this.options.model.sendText(text);
  }

  // ── keypad ──────────────────────────────────────────────────────────────────────────────────────

  private flushKeypad(endedBy: '#' | 'pause' | 'limit'): void {
    clearTimeout(this.keypadTimer);
    this.keypadTimer = undefined;
    const digits = this.keypadDigits.splice(0);
    const { cues } = this.options;
    this.sendText(digits.length === 0 ? cues.keypadHash : cues.keypadDigits.replace('{digits}', digits.join(' ')));
    // The digits may be a code or a PIN: only how many there were is logged.
    this.log.info({ keys: digits.length, endedBy }, 'keypad input sent to the model');
  }

  // ── ending and transferring the call ────────────────────────────────────────────────────────────

  private requestFinish(action: CallFinish, reason: EndReason = defaultFinishReason(action), watchdogOverrideMs?: number): boolean {
    if (this.disposed || this.finish !== undefined) return false;
    const watchdogMs = watchdogOverrideMs ?? this.options.finishWatchdogMs ?? FINISH_WATCHDOG_MS;
    this.finish = {
      action,
      reason,
      replyFinished: false,
      executing: false,
      requestedAtMs: Date.now(),
      watchdog: setTimeout(() => this.execute('watchdog'), watchdogMs),
    };
    this.log.info({ action: action.kind, watchdogMs }, action.kind === 'hang-up' ? 'agent is ending the call after its goodbye' : 'agent is transferring the call after its announcement');
    return true;
  }

  private tryFinish(trigger: string): void {
    const finish = this.finish;
    if (finish === undefined || finish.executing || !finish.replyFinished || this.options.agentAudioPending()) return;
    void this.execute(trigger);
  }

  private async execute(trigger: string): Promise<void> {
    const finish = this.finish;
    if (finish === undefined || finish.executing || this.disposed) return;
    finish.executing = true;
    clearTimeout(finish.watchdog);
    const waitedMs = Date.now() - finish.requestedAtMs;
    if (trigger === 'watchdog') {
      this.log.warn({ waitedMs, replyFinished: finish.replyFinished, agentAudioPending: this.options.agentAudioPending() }, 'goodbye did not finish playing in time; ending the call anyway');
    }
    const { callControl } = this.options;
    const { callSid } = this.options.call;
    if (finish.action.kind === 'hang-up') {
      try {
        const result = await callControl.hangUp(callSid);
        this.log.info({ result, trigger, waitedMs }, 'hung up the call through the Twilio REST API');
      } catch (error) {
        // Nothing follows </Connect> in our TwiML, so closing the media stream ends the call too.
        this.log.error({ err: error }, 'Twilio REST hang-up failed; ending the call by closing the media stream');
      }
      this.options.endCall(finish.reason);
      return;
    }
    const { to, warm } = finish.action;
    try {
      const result = await this.transfer(callSid, to, warm);
      this.log.info({ to: redactPhoneNumber(to), warm: warm !== undefined, result, trigger, waitedMs }, 'transferred the call through the Twilio REST API');
      this.options.endCall(result === 'updated' ? finish.reason : 'caller-hung-up');
    } catch (error) {
      this.log.error({ err: error, to: redactPhoneNumber(to) }, 'transfer failed; the caller stays with the agent');
      this.finish = undefined;
      if (!this.disposed) this.sendText(this.options.cues.transferFailed);
    }
  }

  /** Cold: `<Dial>` at once. Warm: the whisper first, through the warm transfers (a call without them cannot). */
  private transfer(callSid: string, to: string, warm: { summary: string } | undefined): Promise<CallUpdateResult> {
    if (warm === undefined) return this.options.callControl.redirect(callSid, dialTwiml(to, this.options.cues.transferNotAnswered, this.options.language));
    if (this.options.warmTransfers === undefined) return Promise.reject(new Error('this call cannot be transferred warm (no Twilio leg)'));
    const { cues, language } = this.options;
    const whisper = `${cues.transferWhisper.replace('{summary}', warm.summary)} ${cues.transferAccept}`;
    return this.options.warmTransfers.start(callSid, to, whisper, language);
  }
}
