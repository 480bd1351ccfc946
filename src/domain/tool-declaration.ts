/**
 * How a tool is described to a model, in the project's own terms: what `defineTool` produces and every model
 * adapter maps to its provider's form. Parameters are a small subset of JSON Schema, the part the realtime
 * models we know can all express, so whatever a tool declares the model is also told.
 *
 * `sensitive: true` marks personal data (names, phone numbers, free-text notes) and secrets (a confirmation
 * code is as good as a password): the value is never logged. It is ours alone and never sent to a model.
 */
interface ParameterBase {
  description?: string;
  sensitive?: boolean;
}

export interface StringParameter extends ParameterBase {
  type: 'string';
  enum?: readonly string[];
  /** A JavaScript regular expression (unicode mode) the whole value must match; anchor it yourself. */
  pattern?: string;
  minLength?: number;
  maxLength?: number;
}

export interface NumericParameter extends ParameterBase {
  type: 'integer' | 'number';
  minimum?: number;
  maximum?: number;
}

export interface BooleanParameter extends ParameterBase {
  type: 'boolean';
}

export interface ArrayParameter extends ParameterBase {
  type: 'array';
  items: ParameterSchema;
  minItems?: number;
  maxItems?: number;
}

export interface ObjectParameter extends ParameterBase {
  type: 'object';
  properties: Readonly<Record<string, ParameterSchema>>;
  required?: readonly string[];
}

export type ParameterSchema = StringParameter | NumericParameter | BooleanParameter | ArrayParameter | ObjectParameter;

/**
 * BLOCKING: the model waits for the answer before it goes on (the caller hears nothing meanwhile).
 * NON_BLOCKING: the model keeps talking and works the answer in when it arrives. Some models default to
 * NON_BLOCKING, which lets them guess at results they have not seen, so every tool says which it is.
 */
export type ToolBehavior = 'BLOCKING' | 'NON_BLOCKING';

/**
 * When a NON_BLOCKING tool's answer reaches the conversation: at once, cutting in (`interrupt`); once the model
 * is idle (`whenIdle`); or only as context for later (`silent`). Only for models with `toolResultScheduling`.
 */
export type ToolResultScheduling = 'interrupt' | 'whenIdle' | 'silent';

/** One tool as a model is told about it. */
export interface ToolDeclaration {
  readonly name: string;
  /** What the tool does and when to use it: the model decides from it. */
  readonly description: string;
  readonly behavior: ToolBehavior;
  /** NON_BLOCKING only: when its answer reaches the conversation; absent: the model's default. */
  readonly scheduling?: ToolResultScheduling;
  /** The arguments; a tool without arguments has an object with no properties. */
  readonly parameters: ObjectParameter;
}
