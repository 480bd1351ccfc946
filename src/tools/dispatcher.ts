import type { ToolAnswer, ToolCall, ToolFailure } from '../model/realtime-model.js';
import type { Logger } from '../observability/logger.js';
import { redactPhoneNumbersInText } from '../observability/redact.js';
import { redactArguments, validateArguments } from './schema.js';
import { ToolError, type Tool, type ToolCallInfo } from './tool.js';

/** What the dispatcher needs of a tool collection (a `ToolRegistry`). */
export interface ToolLookup {
  get(name: string): Tool | undefined;
  readonly names: string[];
}

export interface ToolDispatcherOptions {
  tools: ToolLookup;
  call: ToolCallInfo;
  log: Logger;
  /**
   * Delivers one answer to the model; called once per function call id, never for cancelled ones. `answered`
   * says how the call ended and how long it took (the browser phone's tool panel shows both).
   */
  send: (response: ToolAnswer, answered: AnsweredToolCall) => void;
  defaultTimeoutMs: number;
}

export type ToolOutcome = 'ok' | 'tool-error' | 'failed' | 'invalid-arguments' | 'unknown-tool' | 'timeout' | 'cancelled' | 'abandoned' | 'call-ended' | 'repeat';

/** How an answered call ended; `failure` is the error behind a `failed` outcome (the model hears only that it failed). */
export interface AnsweredToolCall {
  /** `repeat`: answered from an earlier call of the same turn, the tool not run again. */
  outcome: Extract<ToolOutcome, 'ok' | 'tool-error' | 'failed' | 'invalid-arguments' | 'unknown-tool' | 'timeout' | 'repeat'>;
  durationMs: number;
  failure?: unknown;
}

type StopReason = 'cancelled' | 'abandoned' | 'call-ended';

/** Why a handler's signal was aborted; handlers can read it from `signal.reason`. */
export class ToolAbortedError extends Error {
  constructor(readonly why: StopReason | 'timeout') {
    super(`tool call aborted: ${why}`);
    this.name = 'ToolAbortedError';
  }
}

/** A JSON answer bigger than this is refused: it would swell the model's context on every turn. */
export const MAX_OUTPUT_JSON_CHARS = 16_384;

interface RunningCall {
  call: ToolCall;
  tool: Tool;
  controller: AbortController;
  timer: NodeJS.Timeout;
  startedAtMs: number;
  /** This turn's record of these arguments: repeats wait on it for this call's answer. */
  repeats: TurnResult;
}

/** One tool and arguments within a turn: the first call's answer once it is in, and the repeats waiting for it. */
interface TurnResult {
  response: ToolAnswer['response'] | undefined;
  waiting: Array<{ call: ToolCall; startedAtMs: number }>;
}

/**
 * What a handler's nothing means, said explicitly: Gemini 3.8 calls a tool again, 2-5 times, when its answer is
 * empty or uninformative, and Google's migration notes ask for a status, whether to retry, and a hint instead
 * (https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/live-api/migrate-from-gemini-2-5-to-gemini-3-8-live).
 */
export const DONE_OUTPUT = Object.freeze({ status: 'done', hint: 'It worked. Carry on with the conversation; there is no need to call it again for this.' });
export const NO_RESULTS_OUTPUT = Object.freeze({
  status: 'no_results',
  retryable: false,
  hint: 'Nothing was found for these arguments. Tell the caller; calling again with the same arguments finds nothing more.',
});
const NOT_RETRYABLE_HINT = 'Tell the caller; calling it again with the same arguments will not help.';
const RETRYABLE_HINT = 'You may call it once more; if it fails again, tell the caller it cannot be done right now.';

/**
 * Runs the model's function calls for one phone call. Every call gets exactly one answer with its
 * `id` and `name` (`output` or `error`), unless the model cancels it first; calls run in parallel,
 * each under its own timeout. Nothing a tool does (throw, hang, return junk) escapes this class.
 * Pure logic and timers: answers leave through `send`.
 */
export class ToolDispatcher {
  private readonly running = new Map<string, RunningCall>();
  /** This turn's calls by tool and arguments (canonical JSON): a repeat is answered from the first. */
  private turnResults = new Map<string, TurnResult>();
  private closed = false;
  private repeats = 0;

  constructor(private readonly options: ToolDispatcherOptions) {}

  get runningCount(): number {
    return this.running.size;
  }

  /** Calls answered from an earlier call of the same turn, without running the tool again. */
  get repeatsAnswered(): number {
    return this.repeats;
  }

  /** The model's turn ended: the same call in a later turn runs again (its answer may have changed). */
  newTurn(): void {
    this.turnResults = new Map();
  }

  dispatch(calls: readonly ToolCall[]): void {
    for (const call of calls) this.start(call);
  }

  /** `toolCallCancellation`: abort those handlers and answer nothing for them. */
  cancel(ids: readonly string[]): void {
    const cancelled = new Set(ids);
    // Repeats waiting on a running call's answer are not running themselves: they just stop waiting.
    for (const { repeats } of this.running.values()) repeats.waiting = repeats.waiting.filter((repeat) => !cancelled.has(repeat.call.id));
    for (const id of ids) {
      const entry = this.running.get(id);
      if (entry === undefined) continue; // already answered (or never ours): nothing left to stop
      this.stop(entry, 'cancelled');
    }
  }

  /** The model session these calls came from is gone: stop them; a new session would refuse their answers. */
  abandon(): void {
    for (const entry of [...this.running.values()]) this.stop(entry, 'abandoned');
  }

  /** The phone call ended: abort everything still running; no answers go out any more. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.running.values()]) this.stop(entry, 'call-ended');
  }

  private start(call: ToolCall): void {
    const { log } = this.options;
    if (this.closed) return;
    if (call.id === '') {
      // The Gemini API always sends ids and refuses answers without one; there is nothing to answer.
      log.error({ tool: call.name }, 'model sent a function call without an id; it cannot be answered');
      return;
    }
    if (this.running.has(call.id)) {
      log.warn({ tool: call.name, functionCallId: call.id }, 'model repeated a function call id that is still running; ignored');
      return;
    }
    const startedAtMs = performance.now();
    const key = `${call.name}\u0000${canonicalJson(call.args)}`;
    const earlier = this.turnResults.get(key);
    if (earlier !== undefined) {
      if (earlier.response === undefined) earlier.waiting.push({ call, startedAtMs });
      else this.answer(call, startedAtMs, 'repeat', earlier.response, this.options.tools.get(call.name));
      return;
    }
    const repeats: TurnResult = { response: undefined, waiting: [] };
    this.turnResults.set(key, repeats);
    const tool = this.options.tools.get(call.name);
    if (tool === undefined) {
      const available = this.options.tools.names.join(', ');
      const error = failure('unknown_tool', false, `There is no tool named "${call.name}".`, `Use one of: ${available}.`);
      this.settle(repeats, call, startedAtMs, 'unknown-tool', { error }, undefined);
      return;
    }
    const checked = validateArguments(tool.parameters, call.args);
    if (!checked.ok) {
      const error = failure('invalid_argument', false, `Invalid arguments for ${tool.name}: ${checked.problems.join('; ')}.`, 'Ask the caller for what is missing or wrong, then call it with corrected arguments.');
      this.settle(repeats, call, startedAtMs, 'invalid-arguments', { error }, tool);
      return;
    }

    const controller = new AbortController();
    const timeoutMs = tool.timeoutMs ?? this.options.defaultTimeoutMs;
    const timer = setTimeout(() => this.onTimeout(entry, timeoutMs), timeoutMs);
    const entry: RunningCall = { call, tool, controller, timer, startedAtMs, repeats };
    this.running.set(call.id, entry);

    let result: Promise<unknown>;
    try {
      result = Promise.resolve(tool.run(checked.value, { call: this.options.call, signal: controller.signal, log: log.child({ tool: tool.name }) }));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (output) => this.onSettled(entry, output, undefined),
      (error: unknown) => this.onSettled(entry, undefined, error ?? new Error('rejected without a reason')),
    );
  }

  private onSettled(entry: RunningCall, output: unknown, error: unknown): void {
    if (this.running.get(entry.call.id) !== entry) return; // timed out or cancelled: the answer is no longer wanted
    this.finishRunning(entry);
    const { tool } = entry;
    const settle = (outcome: AnsweredToolCall['outcome'], response: ToolAnswer['response'], cause?: unknown) => this.settle(entry.repeats, entry.call, entry.startedAtMs, outcome, response, tool, cause);
    if (error instanceof ToolError) {
      settle('tool-error', { error: failure('error', error.retryable, error.message, error.hint ?? (error.retryable ? RETRYABLE_HINT : NOT_RETRYABLE_HINT)) });
    } else if (error !== undefined) {
      settle('failed', { error: internalFailure(tool.name) }, error);
    } else {
      const json = toJsonOutput(output);
      if (json.ok) settle('ok', { output: json.value });
      else settle('failed', { error: internalFailure(tool.name) }, new Error(json.problem));
    }
  }

  private onTimeout(entry: RunningCall, timeoutMs: number): void {
    if (this.running.get(entry.call.id) !== entry) return;
    this.finishRunning(entry);
    entry.controller.abort(new ToolAbortedError('timeout'));
    const seconds = Math.round(timeoutMs / 100) / 10;
    const error = failure('timeout', true, `${entry.tool.name} did not finish within ${seconds} seconds and was stopped.`, RETRYABLE_HINT);
    this.settle(entry.repeats, entry.call, entry.startedAtMs, 'timeout', { error }, entry.tool);
  }

  private stop(entry: RunningCall, why: StopReason): void {
    this.finishRunning(entry);
    entry.controller.abort(new ToolAbortedError(why));
    this.logOutcome(entry.call, entry.startedAtMs, why, entry.tool, undefined);
    this.forget(entry.repeats);
    // Repeats that were waiting on a call the model cancelled still want answers: the first of them runs.
    if (why === 'cancelled') for (const repeat of entry.repeats.waiting.splice(0)) this.start(repeat.call);
  }

  private finishRunning(entry: RunningCall): void {
    clearTimeout(entry.timer);
    this.running.delete(entry.call.id);
  }

  /**
   * Answers a call and the repeats that waited for it. A failure that another try might mend (`retryable`) is not
   * kept for later repeats: those run the tool again.
   */
  private settle(repeats: TurnResult, call: ToolCall, startedAtMs: number, outcome: AnsweredToolCall['outcome'], response: ToolAnswer['response'], tool: Tool | undefined, error?: unknown): void {
    repeats.response = response;
    if ('error' in response && response.error.retryable) this.forget(repeats);
    this.answer(call, startedAtMs, outcome, response, tool, error);
    for (const repeat of repeats.waiting.splice(0)) this.answer(repeat.call, repeat.startedAtMs, 'repeat', response, tool);
  }

  private forget(repeats: TurnResult): void {
    for (const [key, value] of this.turnResults) if (value === repeats) this.turnResults.delete(key);
  }

  private answer(call: ToolCall, startedAtMs: number, outcome: AnsweredToolCall['outcome'], response: ToolAnswer['response'], tool: Tool | undefined, error?: unknown): void {
    const durationMs = this.logOutcome(call, startedAtMs, outcome, tool, error);
    if (this.closed) return;
    if (outcome === 'repeat') this.repeats++;
    try {
      const answer: ToolAnswer = { id: call.id, name: call.name, response, ...(tool?.scheduling === undefined ? {} : { scheduling: tool.scheduling }) };
      this.options.send(answer, { outcome, durationMs, ...(outcome === 'failed' ? { failure: error } : {}) });
    } catch (sendError) {
      this.options.log.error({ err: sendError, tool: call.name }, 'could not send a tool response to the model');
    }
  }

  /** Logs how the call ended; returns its duration in milliseconds (to a tenth). */
  private logOutcome(call: ToolCall, startedAtMs: number, outcome: ToolOutcome, tool: Tool | undefined, error: unknown): number {
    const durationMs = Math.round((performance.now() - startedAtMs) * 10) / 10;
    const fields = {
      tool: call.name,
      functionCallId: call.id,
      outcome,
      durationMs,
      // Unknown tools have no schema to say what is safe: only the argument names are kept.
      ...(tool === undefined ? { argNames: Object.keys(call.args) } : { args: redactArguments(tool.parameters, call.args, redactPhoneNumbersInText) }),
    };
    const { log } = this.options;
    if (outcome === 'failed') log.error({ ...fields, err: error }, 'tool failed');
    else if (outcome === 'timeout' || outcome === 'invalid-arguments' || outcome === 'unknown-tool' || outcome === 'abandoned') log.warn(fields, 'tool call not completed');
    else if (outcome === 'repeat') log.info(fields, 'tool call repeated within the turn: answered from the first, the tool not run again');
    else log.info(fields, 'tool call finished');
    return durationMs;
  }
}

function failure(status: ToolFailure['status'], retryable: boolean, message: string, hint: string): ToolFailure {
  return { status, retryable, message, hint };
}

function internalFailure(toolName: string): ToolFailure {
  return failure('error', false, `${toolName} failed because of an internal error.`, 'Do not retry it; apologise to the caller and offer another way to help.');
}

/** The handler's result as plain JSON (what goes on the wire), or why it cannot be. Nothing is said explicitly. */
function toJsonOutput(value: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (value === undefined) return { ok: true, value: DONE_OUTPUT };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return { ok: false, problem: `result is not JSON: ${(error as Error).message}` };
  }
  if (text === undefined) return { ok: false, problem: `result of type ${typeof value} is not JSON` };
  if (text.length > MAX_OUTPUT_JSON_CHARS) return { ok: false, problem: `result is ${text.length} characters of JSON, more than ${MAX_OUTPUT_JSON_CHARS}` };
  if (EMPTY_JSON.has(text)) return { ok: true, value: NO_RESULTS_OUTPUT };
  return { ok: true, value: JSON.parse(text) as unknown };
}

/** Results that say nothing: the model cannot tell "none exist" from "ask differently", so it asks again. */
const EMPTY_JSON = new Set(['null', '""', '[]', '{}']);

/** JSON with object keys sorted, so the same arguments in another order are the same call. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
