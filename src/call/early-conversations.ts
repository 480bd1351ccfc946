import type { Config } from '../config.js';
import { GeminiLiveSession } from '../model/gemini-live-session.js';
import { LiveConversation, type ConversationEvent } from '../model/live-conversation.js';
import type { Logger } from '../observability/logger.js';
import type { CallInfo } from '../telephony/stream-tokens.js';
import type { ToolRegistry } from '../tools/tool.js';
import { GREETING_CUE } from './cues.js';


export interface ConversationDeps {
  gemini: Config['gemini'];
  registry: ToolRegistry;
  /** Opens one Live session; default Gemini Live through the SDK. */
  openModel?: typeof GeminiLiveSession.open;
}

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

/** One call's conversation with Gemini, with its session settings (instructions, tools, voice). */
export function createCallConversation(deps: ConversationDeps, log: Logger, onEvent: (event: ConversationEvent) => void): LiveConversation {
  const open = deps.openModel ?? GeminiLiveSession.open;
  const { gemini, registry } = deps;
  return new LiveConversation({
    log,
    onEvent,
    open: (resumptionHandle, onSessionEvent) =>
      open({
        apiKey: gemini.apiKey,
        model: gemini.model,
        apiVersion: gemini.apiVersion,
        voice: gemini.voice,
        instructions: registry.instructions(gemini.instructions),
        // Fresh declarations for every session: the SDK rewrites them in place.
        toolDeclarations: registry.declarations(),
        setupTimeoutMs: gemini.setupTimeoutMs,
        ...(resumptionHandle === undefined ? {} : { resumptionHandle }),
        log,
        onEvent: onSessionEvent,
      }),
  });
}

export interface EarlyConversation {
  conversation: LiveConversation;
  relay: ConversationRelay;
  /** Settles when the first session is set up (or has failed); the greeting cue is already sent. */
  ready: Promise<void>;
  openedAtMs: number;
}

/**
 * Instant greeting: for an inbound call, the Gemini session opens when the webhook is answered, not
 * when Twilio connects the stream a second or so later, so the greeting audio is waiting when the
 * caller is connected. Only a signed webhook gets here, so nobody opens a paid session without a
 * real call; a conversation whose stream never comes is closed when its stream token would expire.
 */
export class EarlyConversations {
  private readonly pending = new Map<string, { early: EarlyConversation; expiry: NodeJS.Timeout }>();

  constructor(
    private readonly deps: ConversationDeps,
    private readonly log: Logger,
    private readonly ttlMs: number,
  ) {}

  begin(call: CallInfo): void {
    this.discard(call.callSid); // a retried webhook starts over
    const log = this.log.child({ callSid: call.callSid });
    const relay = new ConversationRelay();
    const conversation = createCallConversation(this.deps, log, (event) => relay.emit(event));
    const openedAtMs = Date.now();
    const ready = conversation.start().then(() => {
      log.info({ setupMs: Date.now() - openedAtMs }, 'Gemini Live session ready before the stream: greeting now');
      conversation.sendText(GREETING_CUE);
    });
    ready.catch(() => undefined); // the call that takes it reports the failure
    const expiry = setTimeout(() => {
      if (!this.pending.has(call.callSid)) return;
      log.warn('no media stream came for an answered call; closing its early Gemini session');
      this.discard(call.callSid);
    }, this.ttlMs);
    expiry.unref();
    this.pending.set(call.callSid, { early: { conversation, relay, ready, openedAtMs }, expiry });
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

  private discard(callSid: string): void {
    const entry = this.pending.get(callSid);
    if (entry === undefined) return;
    clearTimeout(entry.expiry);
    this.pending.delete(callSid);
    entry.early.conversation.close();
  }
}
