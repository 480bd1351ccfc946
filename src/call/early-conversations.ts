import type { CallAgent } from '../agents/agent-directory.js';
import type { ConversationEvent, RealtimeConversation, RealtimeModel } from '../model/realtime-model.js';
import type { Logger } from '../observability/logger.js';
import type { CallDetails } from '../domain/call-details.js';
import { STREAM_NEVER_CONNECTED_ADVICE } from '../telephony/twilio-errors.js';

/**
 * Model events wait here until a call is there to take them: a conversation opened at the webhook
 * produces the greeting before Twilio has even connected the media stream.
 */
export class ConversationRelay {
  private sink: ((event: ConversationEvent) => void) | undefined;
  private readonly waiting: ConversationEvent[] = [];

  emit(event: ConversationEvent): void {
    if (this.sink === undefined) this.waiting.push(event);
    else this.sink(event);
  }

  attach(sink: (event: ConversationEvent) => void): void {
    this.sink = sink;
    for (const event of this.waiting.splice(0)) sink(event);
  }
}

export interface EarlyConversation {
  conversation: RealtimeConversation;
  relay: ConversationRelay;
  /** Settles when the first session is set up (or has failed); the greeting cue is already sent. */
  ready: Promise<void>;
  openedAtMs: number;
  /** When its setup completed (undefined until then). */
  readyAtMs?: number;
  /** The greeting cue sent when the session was ready (the call publishes it as text sent to the model). */
  greeting: string;
}

/**
 * Instant greeting: for an inbound call, the model session opens when the webhook is answered, not
 * when Twilio connects the stream a second or so later, so the greeting audio is waiting when the
 * caller is connected. Only a signed webhook gets here, so nobody opens a paid session without a
 * real call; a conversation whose stream never comes is closed when its stream token would expire,
 * and at most `maxPending` are open at once.
 */
export class EarlyConversations {
  private readonly pending = new Map<string, { early: EarlyConversation; expiry: NodeJS.Timeout }>();

  constructor(
    private readonly model: RealtimeModel,
    private readonly log: Logger,
    private readonly ttlMs: number,
    private readonly maxPending: number = Number.POSITIVE_INFINITY,
    private readonly onExpired: () => void = () => {},
  ) {}

  /**
   * Opens the call's conversation now; false when too many are waiting already (the stream then opens its own).
   * `onResumptionHandle`: where the session's resumption handles go (the shared state, for a failover).
   */
  begin(call: CallDetails, agent: CallAgent, onResumptionHandle?: (handle: string) => void): boolean {
    if (this.pending.has(call.callSid)) return true; // answered already: one session per call
    if (this.pending.size >= this.maxPending) {
      this.log.warn({ callSid: call.callSid, pending: this.pending.size }, 'too many sessions opened ahead of their streams: this call opens its own when its stream starts');
      return false;
    }
    const log = this.log.child({ callSid: call.callSid, agent: agent.agent.name });
    const relay = new ConversationRelay();
    const conversation = this.model.conversation(() => agent.conversationSettings(call), { log, onEvent: (event) => relay.emit(event), ...(onResumptionHandle === undefined ? {} : { onResumptionHandle }) });
    const openedAtMs = Date.now();
    const greeting = agent.agent.greeting.inbound;
    const early: EarlyConversation = {
      conversation,
      relay,
      openedAtMs,
      greeting,
      ready: conversation.start().then(() => {
        early.readyAtMs = Date.now();
        log.info({ setupMs: early.readyAtMs - openedAtMs }, 'model session ready before the stream: greeting now');
        conversation.sendText(greeting);
      }),
    };
    early.ready.catch(() => undefined); // the call that takes it reports the failure
    const expiry = setTimeout(() => {
      if (!this.pending.has(call.callSid)) return;
      log.warn({ advice: STREAM_NEVER_CONNECTED_ADVICE }, 'no media stream came here for an answered call; closing its early model session');
      this.onExpired();
      this.discard(call.callSid);
    }, this.ttlMs);
    expiry.unref();
    this.pending.set(call.callSid, { early, expiry });
    return true;
  }

  /** The call's stream has started: hand its conversation over (once). */
  take(callSid: string): EarlyConversation | undefined {
    const entry = this.pending.get(callSid);
    if (entry === undefined) return undefined;
    clearTimeout(entry.expiry);
    this.pending.delete(callSid);
    return entry.early;
  }

  closeAll(): void {
    for (const callSid of [...this.pending.keys()]) this.discard(callSid);
  }

  get size(): number {
    return this.pending.size;
  }

  discard(callSid: string): void {
    const entry = this.pending.get(callSid);
    if (entry === undefined) return;
    clearTimeout(entry.expiry);
    this.pending.delete(callSid);
    entry.early.conversation.close();
  }
}
