import { KEYPAD_TEXT_PREFIX } from '../agents/agent.js';
import type { CallerTurn, ConversationScript, ScriptedReply as ModelReply } from '../model/scripted/script.js';
import { createScriptedModel, type ScriptedModel } from '../model/scripted/scripted-model.js';
import type { CallerTurnKind, ScriptedReply } from './scenario.js';

/** In an argument of a scripted tool call, stands for the digits of the keypad text being answered. */
export const KEYPAD_DIGITS_PLACEHOLDER = '$digits';

/**
 * The model's side of one replayed call: each caller turn the scripted model detects gets the next
 * unused reply scripted for its kind (speech in the audio; keypad input, which the call sends as
 * text; any other text from the call, such as the greeting cue); a turn with none left gets silence,
 * and that is noted for the report.
 */
export class ModelScript implements ConversationScript {
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

  reply(turn: CallerTurn): ModelReply | undefined {
    const text = turn.kind === 'text' ? turn.text : '';
    const kind: CallerTurnKind = turn.kind === 'speech' ? 'speech' : /keypad/i.test(text) ? 'keypad' : 'cue';
    const reply = this.queues.get(kind)!.shift();
    if (reply === undefined) {
      this.unscripted.push(`caller turn ${turn.index + 1} (${kind}${kind === 'speech' ? '' : `: "${text}"`}) had no scripted reply, so the model said nothing`);
      return undefined;
    }
    const digits = text.startsWith(KEYPAD_TEXT_PREFIX) ? text.slice(KEYPAD_TEXT_PREFIX.length).replace(/[^0-9*#]/g, '') : '';
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

/** The model of a replayed call: a scripted model (the product ships no fake of a provider's server) playing `script`. */
export function replayModel(script: ModelScript): ScriptedModel {
  return createScriptedModel({ provider: 'replay', script: () => script });
}
