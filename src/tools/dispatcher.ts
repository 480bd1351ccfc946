import type { ToolAnswer, ToolCall } from '../model/realtime-model.js';
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

export type ToolOutcome = 'ok' | 'tool-error' | 'failed' | 'invalid-arguments' | 'unknown-tool' | 'timeout' | 'cancelled' | 'abandoned' | 'call-ended';

/** How an answered call ended; `failure` is the error behind a `failed` outcome (the model hears only that it failed). */
export interface AnsweredToolCall {
  outcome: Extract<ToolOutcome, 'ok' | 'tool-error' | 'failed' | 'invalid-arguments' | 'unknown-tool' | 'timeout'>;
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
}

/**
 * Runs the model's function calls for one phone call. Every call gets exactly one answer with its
 * `id` and `name` (`output` or `error`), unless the model cancels it first; calls run in parallel,
 * each under its own timeout. Nothing a tool does (throw, hang, return junk) escapes this class.
 * Pure logic and timers: answers leave through `send`.
 */
export class ToolDispatcher {
  private readonly running = new Map<string, RunningCall>();
  private closed = false;

  constructor(private readonly options: ToolDispatcherOptions) {}

  get runningCount(): number {
    return this.running.size;
  }

  dispatch(calls: readonly ToolCall[]): void {
    for (const call of calls) this.start(call);
  }

  /** `toolCallCancellation`: abort those handlers and answer nothing for them. */
  cancel(ids: readonly string[]): void {
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
    const tool = this.options.tools.get(call.name);
    if (tool === undefined) {
      const available = this.options.tools.names.join(', ');
      this.answer(call, startedAtMs, 'unknown-tool', { error: `There is no tool named "${call.name}". Available tools: ${available}.` }, undefined);
      return;
    }
    const checked = validateArguments(tool.parameters, call.args);
    if (!checked.ok) {
      this.answer(call, startedAtMs, 'invalid-arguments', { error: `Invalid arguments for ${tool.name}: ${checked.problems.join('; ')}.` }, tool);
      return;
    }

    const controller = new AbortController();
    const timeoutMs = tool.timeoutMs ?? this.options.defaultTimeoutMs;
    const timer = setTimeout(() => this.onTimeout(entry, timeoutMs), timeoutMs);
    const entry: RunningCall = { call, tool, controller, timer, startedAtMs };
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
    if (error instanceof ToolError) {
      this.answer(entry.call, entry.startedAtMs, 'tool-error', { error: error.message }, tool);
    } else if (error !== undefined) {
      this.answer(entry.call, entry.startedAtMs, 'failed', { error: internalFailure(tool.name) }, tool, error);
    } else {
      const json = toJsonOutput(output);
      if (json.ok) this.answer(entry.call, entry.startedAtMs, 'ok', { output: json.value }, tool);
      else this.answer(entry.call, entry.startedAtMs, 'failed', { error: internalFailure(tool.name) }, tool, new Error(json.problem));
    }
  }

  private onTimeout(entry: RunningCall, timeoutMs: number): void {
    if (this.running.get(entry.call.id) !== entry) return;
    this.finishRunning(entry);
    entry.controller.abort(new ToolAbortedError('timeout'));
    const seconds = Math.round(timeoutMs / 100) / 10;
    this.answer(
      entry.call,
      entry.startedAtMs,
      'timeout',
      { error: `${entry.tool.name} did not finish within ${seconds} seconds and was stopped. You may try once more; if it fails again, tell the caller it cannot be done right now.` },
      entry.tool,
    );
  }

  private stop(entry: RunningCall, why: StopReason): void {
    this.finishRunning(entry);
    entry.controller.abort(new ToolAbortedError(why));
    this.logOutcome(entry.call, entry.startedAtMs, why, entry.tool, undefined);
  }

  private finishRunning(entry: RunningCall): void {
    clearTimeout(entry.timer);
    this.running.delete(entry.call.id);
  }

  private answer(call: ToolCall, startedAtMs: number, outcome: AnsweredToolCall['outcome'], response: ToolAnswer['response'], tool: Tool | undefined, error?: unknown): void {
    const durationMs = this.logOutcome(call, startedAtMs, outcome, tool, error);
    if (this.closed) return;
    try {
      this.options.send({ id: call.id, name: call.name, response }, { outcome, durationMs, ...(outcome === 'failed' ? { failure: error } : {}) });
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
    else log.info(fields, 'tool call finished');
    return durationMs;
  }
}

function internalFailure(toolName: string): string {
  return `${toolName} failed because of an internal error. Do not retry it; apologise to the caller and offer another way to help.`;
}

/** The handler's result as plain JSON (what goes on the wire), or why it cannot be. */
function toJsonOutput(value: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  // An empty answer makes Gemini 3.8 call again to be sure; say explicitly that it worked.
  if (value === undefined) return { ok: true, value: { done: true } };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return { ok: false, problem: `result is not JSON: ${(error as Error).message}` };
  }
  if (text === undefined) return { ok: false, problem: `result of type ${typeof value} is not JSON` };
  if (text.length > MAX_OUTPUT_JSON_CHARS) return { ok: false, problem: `result is ${text.length} characters of JSON, more than ${MAX_OUTPUT_JSON_CHARS}` };
  return { ok: true, value: JSON.parse(text) as unknown };
}
