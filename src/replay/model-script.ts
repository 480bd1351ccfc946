import { randomBytes } from 'node:crypto';
import { KEYPAD_TEXT_PREFIX } from '../agents/agent.js';
import { startFakeGeminiLive, type FakeGeminiLive, type FakeReply, type ReplyContext } from '../local-live/server.js';
import type { CallerTurnKind, ScriptedReply } from './scenario.js';

/** In an argument of a scripted tool call, stands for the digits of the keypad text being answered. */
export const KEYPAD_DIGITS_PLACEHOLDER = '$digits';

/**
 * The model's side of one replayed call: each caller turn the local Live server detects gets the
 * next unused reply scripted for its kind (speech in the audio; keypad input, which the call sends as
 * text; any other text from the call, such as the greeting cue); a turn with none left gets silence,
 * and that is noted for the report.
 */
export class ModelScript {
  private readonly queues = new Map<CallerTurnKind, ScriptedReply[]>([
    ['speech', []],
    ['keypad', []],
    ['cue', []],
  ]);
  private readonly unscripted: string[] = [];
  /**
   * Every tool call the script had the model make, in order, with its arguments as sent. The server's recording
   * masks arguments marked `sensitive`; the report shows these instead, as the model sent them.
   */
  readonly toolCallsMade: Array<{ name: string; args: Record<string, unknown> }> = [];

  constructor(replies: readonly ScriptedReply[]) {
    for (const reply of replies) this.queues.get(reply.to)!.push(reply);
  }

  reply({ source, heardText, turnIndex }: Pick<ReplyContext, 'source' | 'heardText' | 'turnIndex'>): FakeReply | undefined {
    const kind: CallerTurnKind = source === 'audio' || source === 'activity' ? 'speech' : /keypad/i.test(heardText ?? '') ? 'keypad' : 'cue';
    const reply = this.queues.get(kind)!.shift();
    if (reply === undefined) {
      this.unscripted.push(`caller turn ${turnIndex + 1} (${kind}${kind === 'speech' ? '' : `: "${heardText ?? ''}"`}) had no scripted reply, so the model said nothing`);
      return undefined;
    }
    const digits = heardText?.startsWith(KEYPAD_TEXT_PREFIX) ? heardText.slice(KEYPAD_TEXT_PREFIX.length).replace(/[^0-9*#]/g, '') : '';
    const toolCalls = reply.toolCalls?.map((call) => ({ name: call.name, args: substitute(call.args, digits) as Record<string, unknown> }));
    if (toolCalls !== undefined) this.toolCallsMade.push(...toolCalls);
    return {
      text: reply.text,
      ...(reply.heard === undefined ? {} : { heard: reply.heard }),
      ...(toolCalls === undefined ? {} : { toolCalls }),
    };
  }

  /** Where the call left the script: turns nobody scripted, replies never used. */
  notes(): string[] {
    const unused = [...this.queues.values()].flat();
    return [...this.unscripted, ...unused.map((reply) => `the scripted reply to ${reply.to} "${reply.text}" was never used`)];
  }
}

function substitute(value: unknown, digits: string): unknown {
  if (value === KEYPAD_DIGITS_PLACEHOLDER) return digits;
  if (Array.isArray(value)) return value.map((item) => substitute(item, digits));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, digits)]));
  return value;
}

/**
 * The local Live server for replays. Several replays may share it (the test suite runs its fixtures
 * side by side): each call's server is given its own API key, and the key its sessions present picks
 * the script. While it runs, GOOGLE_GEMINI_BASE_URL points the SDK at it (one per process).
 */
export class ReplayLiveServer {
  private readonly scripts = new Map<string, ModelScript>();
  private previousBaseUrl: string | undefined;
  private live!: FakeGeminiLive;

  static async start(): Promise<ReplayLiveServer> {
    const server = new ReplayLiveServer();
    server.live = await startFakeGeminiLive({ replies: (context) => server.scripts.get(context.session.apiKey ?? '')?.reply(context) });
    server.previousBaseUrl = process.env.GOOGLE_GEMINI_BASE_URL;
    // The SDK reads this each time it builds a session's client.
    process.env.GOOGLE_GEMINI_BASE_URL = server.live.baseUrl;
    return server;
  }

  /** The API key a call's server must use for its sessions to get `script`. */
  attach(script: ModelScript): string {
    const key = `replay-${randomBytes(12).toString('hex')}`;
    this.scripts.set(key, script);
    return key;
  }

  detach(key: string): void {
    this.scripts.delete(key);
  }

  async close(): Promise<void> {
    if (this.previousBaseUrl === undefined) delete process.env.GOOGLE_GEMINI_BASE_URL;
    else process.env.GOOGLE_GEMINI_BASE_URL = this.previousBaseUrl;
    await this.live.close();
  }
}
