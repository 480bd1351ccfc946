import type { ObjectParameter, ParameterSchema } from '../domain/tool-declaration.js';

export type { ArrayParameter, BooleanParameter, NumericParameter, ObjectParameter, ParameterSchema, StringParameter } from '../domain/tool-declaration.js';

/**
 * Tool parameters (src/domain/tool-declaration.ts): their argument types for typed handlers, the checks of a
 * schema when a tool is defined, the validation of the model's arguments, and log-safe arguments.
 */

// ── Argument types inferred from a schema (for typed handlers). ───────────────────────────────────

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type RequiredKeys<S> = S extends { required: readonly (infer R)[] } ? R : never;

export type InferObject<S extends ObjectParameter> = Simplify<
  { -readonly [K in keyof S['properties'] as K extends RequiredKeys<S> ? K : never]: Infer<S['properties'][K]> } & {
    -readonly [K in keyof S['properties'] as K extends RequiredKeys<S> ? never : K]?: Infer<S['properties'][K]>;
  }
>;

export type Infer<S> = S extends { type: 'string'; enum: readonly (infer E)[] }
  ? E
  : S extends { type: 'string' }
    ? string
    : S extends { type: 'integer' | 'number' }
      ? number
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'array'; items: infer I }
          ? Infer<I>[]
          : S extends ObjectParameter
            ? InferObject<S>
            : never;

// ── Checking a schema when a tool is defined (programming errors fail at start-up, not mid-call). ──

/** Parameter names every model we know accepts (Gemini's rule, the strictest). */
const PARAMETER_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function assertValidSchema(schema: ParameterSchema, path: string): void {
  switch (schema.type) {
    case 'string':
      if (schema.pattern !== undefined) new RegExp(schema.pattern, 'u'); // throws on a bad pattern
      if (schema.enum !== undefined && schema.enum.length === 0) throw new Error(`${path}: enum must not be empty`);
      return;
    case 'integer':
    case 'number':
    case 'boolean':
      return;
    case 'array':
      assertValidSchema(schema.items, `${path}[]`);
      return;
    case 'object':
      for (const [name, property] of Object.entries(schema.properties)) {
        if (!PARAMETER_NAME_PATTERN.test(name)) throw new Error(`${path}: "${name}" is not a valid parameter name (letters, digits and _, starting with a letter or _, at most 64)`);
        assertValidSchema(property, path === '' ? name : `${path}.${name}`);
      }
      for (const name of schema.required ?? []) {
        if (!(name in schema.properties)) throw new Error(`${path || 'parameters'}: required "${name}" is not a property`);
      }
      return;
    default:
      throw new Error(`${path}: unsupported parameter type ${JSON.stringify((schema as { type: unknown }).type)}`);
  }
}

// ── Validation of the model's arguments. ───────────────────────────────────────────────────────────

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

const compiledPatterns = new Map<string, RegExp>();

function compiled(pattern: string): RegExp {
  let regex = compiledPatterns.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(pattern, 'u');
    compiledPatterns.set(pattern, regex);
  }
  return regex;
}

/**
 * Checks the model's arguments against a tool's parameters. Every problem is named with its path,
 * in words the model can act on ("party_size must be at most 8 (got 12)"). Properties the schema
 * does not declare are refused too, so a handler only ever sees what it declared.
 */
export function validateArguments<S extends ObjectParameter>(schema: S, args: unknown): ValidationResult<InferObject<S>> {
  const problems: string[] = [];
  checkValue(schema, args ?? {}, '', problems);
  return problems.length === 0 ? { ok: true, value: args as InferObject<S> } : { ok: false, problems };
}

function checkValue(schema: ParameterSchema, value: unknown, path: string, problems: string[]): void {
  const name = path === '' ? 'the arguments' : path;
  switch (schema.type) {
    case 'string': {
      if (typeof value !== 'string') return void problems.push(`${name} must be a string (got ${describe(value)})`);
      if (schema.enum !== undefined && !schema.enum.includes(value)) {
        return void problems.push(`${name} must be one of ${schema.enum.map((option) => JSON.stringify(option)).join(', ')} (got ${JSON.stringify(value)})`);
      }
      const length = [...value].length;
      if (schema.minLength !== undefined && length < schema.minLength) problems.push(`${name} must be at least ${schema.minLength} characters long`);
      if (schema.maxLength !== undefined && length > schema.maxLength) problems.push(`${name} must be at most ${schema.maxLength} characters long`);
      if (schema.pattern !== undefined && !compiled(schema.pattern).test(value)) {
        problems.push(`${name} is not in the expected format${schema.description === undefined ? '' : ` (${schema.description})`}; got ${JSON.stringify(value)}`);
      }
      return;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return void problems.push(`${name} must be a number (got ${describe(value)})`);
      if (schema.type === 'integer' && !Number.isInteger(value)) return void problems.push(`${name} must be a whole number (got ${value})`);
      if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${name} must be at least ${schema.minimum} (got ${value})`);
      if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${name} must be at most ${schema.maximum} (got ${value})`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${name} must be true or false (got ${describe(value)})`);
      return;
    case 'array': {
      if (!Array.isArray(value)) return void problems.push(`${name} must be a list (got ${describe(value)})`);
      if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${name} must have at least ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${name} must have at most ${schema.maxItems} items`);
      value.forEach((item: unknown, index) => checkValue(schema.items, item, `${path}[${index}]`, problems));
      return;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return void problems.push(`${name} must be an object (got ${describe(value)})`);
      }
      const record = value as Record<string, unknown>;
      for (const required of schema.required ?? []) {
        if (record[required] === undefined || record[required] === null) problems.push(`${join(path, required)} is required`);
      }
      for (const [key, item] of Object.entries(record)) {
        const property = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
        if (property === undefined) {
          problems.push(`${join(path, key)} is not a parameter of this tool`);
        } else if (item !== undefined && item !== null) {
          checkValue(property, item, join(path, key), problems);
        }
      }
      return;
    }
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

// ── Log-safe arguments. ────────────────────────────────────────────────────────────────────────────

export const REDACTED = '[redacted]';

/**
 * The arguments as they may be logged: sensitive values replaced, phone numbers masked in any other
 * text, and values the schema does not know (nothing vouches for them) replaced.
 */
export function redactArguments(schema: ParameterSchema | undefined, value: unknown, redactText: (text: string) => string): unknown {
  if (value === undefined || value === null) return value;
  if (schema === undefined || schema.sensitive === true) return REDACTED;
  if (schema.type === 'object') {
    if (typeof value !== 'object' || Array.isArray(value)) return REDACTED;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = redactArguments(Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined, item, redactText);
    }
    return out;
  }
  if (schema.type === 'array') {
    return Array.isArray(value) ? value.map((item: unknown) => redactArguments(schema.items, item, redactText)) : REDACTED;
  }
  if (typeof value === 'string') return redactText(value);
  return typeof value === 'number' || typeof value === 'boolean' ? value : REDACTED;
}
