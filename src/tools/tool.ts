import { Behavior, type FunctionDeclaration } from '@google/genai';
import type { Logger } from '../observability/logger.js';
import { assertValidSchema, toGeminiSchema, type InferObject, type ObjectParameter } from './schema.js';

export type { InferObject, ObjectParameter, ParameterSchema } from './schema.js';

/**
 * BLOCKING: the model waits for the answer before it goes on (the caller hears nothing meanwhile).
 * NON_BLOCKING: the model keeps talking and works the answer in when it arrives. Gemini 3.8 Live
 * defaults to NON_BLOCKING, which lets it guess at results it has not seen, so every tool says.
 */
export type ToolBehavior = 'BLOCKING' | 'NON_BLOCKING';

/** How a tool may end the phone call, once the agent's reply has been heard. */
/** How a call ends once the agent's last words are heard; `reason` names it in the call summary. */
export type CallFinish = { kind: 'hang-up'; reason?: string } | { kind: 'transfer'; to: string };

/** The phone call a tool runs in. */
export interface ToolCallInfo {
  callSid: string;
  /** The caller's number in E.164 form; undefined when withheld or not a phone number. */
  callerNumber: string | undefined;
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

export interface ToolDefinition<P extends ObjectParameter> {
  /** Letters, digits, `_ . : -`; starts with a letter or `_`; at most 128 characters (Gemini's rule). */
  name: string;
  /** What the tool does and when to use it: the model reads this to decide. */
  description: string;
  behavior: ToolBehavior;
  /** The arguments, as a JSON-schema subset (see schema.ts). Omit for a tool without arguments. */
  parameters?: P;
  /** Overrides TOOL_TIMEOUT_MS for this tool. */
  timeoutMs?: number;
  /** A line added to the system instruction, e.g. when to call the tool; a function is read per session. */
  guidance?: string | (() => string);
  /**
   * Runs the tool with validated arguments. The result (any JSON value) is the model's `output`.
   * Throw `ToolError` for an answer the model should hear (e.g. "no booking with that code");
   * any other error is logged and the model is told only that the tool failed.
   */
  handler: (args: InferObject<P>, context: ToolContext) => unknown;
}

/** A tool as the dispatcher sees it: arguments are validated against `parameters` before `run`. */
export interface Tool {
  readonly name: string;
  readonly description: string;
  readonly behavior: ToolBehavior;
  readonly parameters: ObjectParameter;
  readonly timeoutMs: number | undefined;
  readonly guidance: string | (() => string) | undefined;
  run(args: unknown, context: ToolContext): unknown;
}

/** An error whose message is meant for the model (and through it, the caller). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

const TOOL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const NO_PARAMETERS = { type: 'object', properties: {} } as const satisfies ObjectParameter;

/** Declares a tool. Mistakes in the definition throw here, at start-up, not in the middle of a call. */
export function defineTool<const P extends ObjectParameter = typeof NO_PARAMETERS>(definition: ToolDefinition<P>): Tool {
  const { name, description, behavior, handler } = definition;
  if (!TOOL_NAME_PATTERN.test(name)) throw new Error(`tool name "${name}" is not valid for Gemini`);
  if (description.trim() === '') throw new Error(`tool ${name}: a description is required (the model decides from it)`);
  if (behavior !== 'BLOCKING' && behavior !== 'NON_BLOCKING') throw new Error(`tool ${name}: behavior must be BLOCKING or NON_BLOCKING`);
  if (definition.timeoutMs !== undefined && !(definition.timeoutMs > 0)) throw new Error(`tool ${name}: timeoutMs must be positive`);
  const parameters: ObjectParameter = definition.parameters ?? NO_PARAMETERS;
  if (parameters.type !== 'object') throw new Error(`tool ${name}: parameters must be an object schema`);
  assertValidSchema(parameters, '');
  return {
    name,
    description,
    behavior,
    parameters,
    timeoutMs: definition.timeoutMs,
    guidance: definition.guidance,
    run: (args, context) => handler(args as InferObject<P>, context),
  };
}

/** The tools one call offers the model: their declarations for the Live setup, and lookup by name. */
export class ToolRegistry {
  private readonly byName = new Map<string, Tool>();

  constructor(
    tools: readonly Tool[],
    /** Extra system-instruction lines that belong to no single tool (e.g. the business and today's date). */
    private readonly briefings: ReadonlyArray<() => string> = [],
  ) {
    for (const tool of tools) {
      if (this.byName.has(tool.name)) throw new Error(`two tools are named ${tool.name}`);
      this.byName.set(tool.name, tool);
    }
  }

  get(name: string): Tool | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** Fresh declaration objects for one session's setup (the SDK rewrites them in place). */
  declarations(): FunctionDeclaration[] {
    return [...this.byName.values()].map(toDeclaration);
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

/**
 * Parameters go in `parameters` (OpenAPI Schema), not `parametersJsonSchema`: Live models have been
 * reported to call tools declared with the latter with empty arguments (googleapis/python-genai#1147).
 * A tool without arguments has no `parameters` at all: Gemini refuses an OBJECT with no properties.
 */
export function toDeclaration(tool: Tool): FunctionDeclaration {
  const declaration: FunctionDeclaration = {
    name: tool.name,
    description: tool.description,
    behavior: tool.behavior === 'BLOCKING' ? Behavior.BLOCKING : Behavior.NON_BLOCKING,
  };
  if (Object.keys(tool.parameters.properties).length > 0) declaration.parameters = toGeminiSchema(tool.parameters);
  return declaration;
}
