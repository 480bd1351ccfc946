import type { Logger } from '../observability/logger.js';
import type { CallDetails } from '../domain/call-details.js';
import type { ToolBehavior, ToolDeclaration, ToolResultScheduling } from '../domain/tool-declaration.js';
import { assertValidSchema, type InferObject, type ObjectParameter } from './schema.js';

export type { InferObject, ObjectParameter, ParameterSchema } from './schema.js';
export type { ToolBehavior, ToolResultScheduling } from '../domain/tool-declaration.js';

/**
 * How a call ends once the agent's last words are heard: hung up (`agent-hung-up`) or handed to a number
 * (`transferred`). A transfer with `warm` first tells the person called its `summary`, and brings the caller back if
 * they do not take the call (`transferred-warm`).
 */
export type CallFinish = { kind: 'hang-up' } | { kind: 'transfer'; to: string; warm?: { summary: string } };

/** The phone call a tool runs in. */
export interface ToolCallInfo extends CallDetails {
  /**
   * Ends the call after the agent's current reply has played to the caller (hang up or transfer).
   * Returns false when the call is already being ended.
   */
  finishAfterReply(finish: CallFinish): boolean;
}

export interface ToolContext {
  call: ToolCallInfo;
  /** Aborted when the model cancels the call, the tool times out, or the phone call ends. */
  signal: AbortSignal;
  /** The call's logger, tagged with the tool name. Never log personal data in clear. */
  log: Logger;
}

interface ToolDefinitionBase<P extends ObjectParameter> {
  /** Letters, digits, `_ . : -`; starts with a letter or `_`; at most 128 characters (the strictest model's rule: Gemini's). */
  name: string;
  /** What the tool does and when to use it: the model reads this to decide. */
  description: string;
  behavior: ToolBehavior;
  /**
   * NON_BLOCKING only, on models that schedule tool results (docs/models.md): `interrupt` (the answer cuts in at
   * once), `whenIdle` (once the model is idle) or `silent` (context for later, no new reply). Default: the model's.
   */
  scheduling?: ToolResultScheduling;
  /** The arguments, as a JSON-schema subset (see schema.ts). Omit for a tool without arguments. */
  parameters?: P;
  /** Overrides the service's TOOL_TIMEOUT_MS for this tool. */
  timeoutMs?: number;
  /** A line added to the system instruction, e.g. when to call the tool; a function is read per session. */
  guidance?: string | (() => string);
}

/** A tool that runs in this process. */
export interface HandlerToolDefinition<P extends ObjectParameter> extends ToolDefinitionBase<P> {
  /**
   * Runs the tool with validated arguments. The result (any JSON value) is the model's `output`.
   * Throw `ToolError` for an answer the model should hear (e.g. "no appointment on that day");
   * any other error is logged and the model is told only that the tool failed.
   */
  handler: (args: InferObject<P>, context: ToolContext) => unknown;
  url?: never;
}

/**
 * A tool served by your backend over HTTP, in any language: the service POSTs the call to `url`, signed with
 * TOOL_WEBHOOK_SECRET, and the JSON answer is the model's `output` (docs/http-tools.md).
 */
export interface HttpToolDefinition<P extends ObjectParameter> extends ToolDefinitionBase<P> {
  /** https:// (http:// only for localhost, 127.0.0.1 or ::1). */
  url: string;
  handler?: never;
}

export type ToolDefinition<P extends ObjectParameter> = HandlerToolDefinition<P> | HttpToolDefinition<P>;

/** A tool as the model is told about it and the dispatcher runs it: arguments are validated against `parameters` before `run`. */
export interface Tool extends ToolDeclaration {
  readonly timeoutMs: number | undefined;
  readonly guidance: string | (() => string) | undefined;
  /** Where an HTTP tool is served; undefined for a tool with a handler. */
  readonly url: URL | undefined;
  /** Runs a handler tool; HTTP tools are run by the service (it holds the signing secret). */
  run(args: unknown, context: ToolContext): unknown;
}

const TOOL_ERROR_BRAND = Symbol.for('gemini-phone-agent/ToolError');

/** What a ToolError tells the model besides its message. */
export interface ToolErrorOptions {
  /** Whether calling again with the same arguments could help (a busy backend), default false (a plain no). */
  retryable?: boolean;
  /** What the model should do next, e.g. "Ask for the confirmation code instead." Default: a general hint. */
  hint?: string;
}

/**
 * An error whose message is meant for the model (and through it, the caller). It reaches the model as
 * `{ status: 'error', retryable, message, hint }`, so the model knows whether another try could help.
 */
export class ToolError extends Error {
  readonly [TOOL_ERROR_BRAND] = true;
  readonly retryable: boolean;
  readonly hint: string | undefined;

  constructor(message: string, options: ToolErrorOptions = {}) {
    super(message);
    this.name = 'ToolError';
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
  }

  /**
   * Recognised across copies of this package: an agent file compiled on the fly may load its own copy of the
   * API, and its ToolErrors must still reach the model as answers.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TOOL_ERROR_BRAND] === true;
  }
}

const SCHEDULINGS = ['interrupt', 'whenIdle', 'silent'] as const satisfies readonly ToolResultScheduling[];
const TOOL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const NO_PARAMETERS = { type: 'object', properties: {} } as const satisfies ObjectParameter;

/** A mistake in a tool or agent definition, found at start-up; the message names the tool and the field. */
export class DefinitionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'DefinitionError';
  }
}

/** Declares a tool. Mistakes in the definition throw here, at start-up, not in the middle of a call. */
export function defineTool<const P extends ObjectParameter = typeof NO_PARAMETERS>(definition: ToolDefinition<P>): Tool {
  const problems = toolDefinitionProblems(definition as ToolDefinition<ObjectParameter>);
  if (problems.length > 0) throw new DefinitionError(problems);
  const { name, description, behavior, scheduling } = definition;
  const parameters: ObjectParameter = definition.parameters ?? NO_PARAMETERS;
  const url = definition.url === undefined ? undefined : new URL(definition.url);
  const handler = definition.handler;
  return Object.freeze({
    name,
    description,
    behavior,
    ...(scheduling === undefined ? {} : { scheduling }),
    parameters,
    timeoutMs: definition.timeoutMs,
    guidance: definition.guidance,
    url,
    run: (args: unknown, context: ToolContext) => {
      if (handler === undefined) throw new Error(`tool ${name} is served over HTTP; the service runs it`);
      return handler(args as InferObject<P>, context);
    },
  });
}

/** Every problem with a tool definition, each naming the tool and the field (empty when it is fine). */
export function toolDefinitionProblems(definition: ToolDefinition<ObjectParameter>): string[] {
  const problems: string[] = [];
  const raw = definition as unknown as Record<string, unknown>;
  const name = typeof raw.name === 'string' ? raw.name : '';
  const label = `tool ${name === '' ? '(unnamed)' : `"${name}"`}`;
  if (!TOOL_NAME_PATTERN.test(name)) problems.push(`${label}: name must be letters, digits, _ . : - starting with a letter or _, at most 128 characters`);
  if (typeof raw.description !== 'string' || raw.description.trim() === '') problems.push(`${label}: description is required (the model decides from it)`);
  if (raw.behavior !== 'BLOCKING' && raw.behavior !== 'NON_BLOCKING') problems.push(`${label}: behavior must be "BLOCKING" or "NON_BLOCKING"`);
  if (raw.scheduling !== undefined) {
    if (!(SCHEDULINGS as readonly unknown[]).includes(raw.scheduling)) problems.push(`${label}: scheduling must be one of ${SCHEDULINGS.join(', ')}`);
    else if (raw.behavior !== 'NON_BLOCKING') problems.push(`${label}: scheduling is for NON_BLOCKING tools only (a BLOCKING tool's answer is awaited)`);
  }
  if (raw.timeoutMs !== undefined && !(typeof raw.timeoutMs === 'number' && raw.timeoutMs > 0 && raw.timeoutMs <= 600_000)) {
    problems.push(`${label}: timeoutMs must be a number of milliseconds from 1 to 600000`);
  }
  const hasHandler = raw.handler !== undefined;
  const hasUrl = raw.url !== undefined;
  if (hasHandler === hasUrl) problems.push(`${label}: give either handler (a function) or url (an HTTP tool), not ${hasHandler ? 'both' : 'neither'}`);
  if (hasHandler && typeof raw.handler !== 'function') problems.push(`${label}: handler must be a function`);
  if (hasUrl) {
    const urlProblem = httpToolUrlProblem(raw.url);
    if (urlProblem !== undefined) problems.push(`${label}: url ${urlProblem}`);
  }
  const parameters = (raw.parameters ?? NO_PARAMETERS) as ObjectParameter;
  if (typeof parameters !== 'object' || parameters === null || parameters.type !== 'object') {
    problems.push(`${label}: parameters must be an object schema ({ type: 'object', properties: {...} })`);
  } else {
    try {
      assertValidSchema(parameters, '');
    } catch (error) {
      problems.push(`${label}: parameters ${(error as Error).message}`);
    }
  }
  return problems;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why an HTTP tool's URL is refused, or undefined: https anywhere, http only to this machine. */
export function httpToolUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL (got "${value}")`;
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (the request is signed instead)';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `must be https:// (http:// only for localhost), got "${url.protocol}//${url.host}"`;
}

/** The tools one call offers the model: their declarations for the Live setup, and lookup by name. */
export class ToolRegistry {
  private readonly byName = new Map<string, Tool>();

  constructor(
    tools: readonly Tool[],
    /** Extra system-instruction lines that belong to no single tool. */
    private readonly briefings: ReadonlyArray<() => string> = [],
    /** Runs the HTTP tools among `tools`; without it a registry holding one refuses to be built. */
    http?: { bind(tool: Tool): Tool },
  ) {
    for (const tool of tools) {
      if (this.byName.has(tool.name)) throw new Error(`two tools are named ${tool.name}`);
      if (tool.url !== undefined && http === undefined) throw new Error(`tool ${tool.name} is an HTTP tool: TOOL_WEBHOOK_SECRET must be set`);
      this.byName.set(tool.name, tool.url === undefined || http === undefined ? tool : http.bind(tool));
    }
  }

  get(name: string): Tool | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** What the model is told about each tool. */
  declarations(): ToolDeclaration[] {
    return [...this.byName.values()].map(({ name, description, behavior, scheduling, parameters }) => ({
      name,
      description,
      behavior,
      ...(scheduling === undefined ? {} : { scheduling }),
      parameters,
    }));
  }

  /** The system instruction with the business briefing and each tool's guidance appended. */
  instructions(base: string): string {
    const lines = [
      ...this.briefings.map((briefing) => briefing()),
      ...[...this.byName.values()].map((tool) => (typeof tool.guidance === 'function' ? tool.guidance() : tool.guidance)),
    ].filter((line): line is string => line !== undefined && line.trim() !== '');
    return lines.length === 0 ? base : `${base}\n\n${lines.join('\n')}`;
  }
}
