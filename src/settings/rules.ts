import { E164_HINT, E164_PATTERN } from '../domain/identifiers.js';

/**
 * What a setting's value must be. One rule serves both ways in: a value from code is checked as it is; an
 * environment variable's text is first read into the value it stands for (`fromText`), then checked the same way,
 * so both get the same words when it is wrong.
 */
export interface Rule<T> {
  check(value: unknown): Checked<T>;
  /** The value an environment variable's text stands for, or the text itself when it stands for none. */
  fromText(text: string): unknown;
  /** A secret is never repeated in a message. */
  readonly secret?: boolean;
}

/** `problem` ends a sentence that starts with the setting's name: "must be an integer from 0 to 65535". */
export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const fail = <T>(problem: string): Checked<T> => ({ ok: false, problem });

/** A whole number in a range; `what` names it in the message ("an integer", "a whole number of days"). */
export function integer(min: number, max: number, what = 'an integer'): Rule<number> {
  return {
    check: (value) => (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? ok(value) : fail(`must be ${what} from ${min} to ${max}`)),
    fromText: (text) => (/^\d+$/.test(text) ? Number(text) : text),
  };
}

/** On or off: `1`/`0` in the environment, as the variables have always been read; true/false in code. */
export function flag(): Rule<boolean> {
  return {
    check: (value) => (typeof value === 'boolean' ? ok(value) : fail('must be 1 or 0, or true or false in code')),
    fromText: (text) => (text === '1' ? true : text === '0' ? false : text),
  };
}

export function oneOf<T extends string>(values: readonly T[]): Rule<T> {
  return {
    check: (value) => ((values as readonly unknown[]).includes(value) ? ok(value as T) : fail(`must be one of ${values.join(', ')}`)),
    fromText: (text) => text,
  };
}

/** Text, optionally of a pattern; `must` says what the pattern asks for. */
export function text(pattern?: RegExp, must = 'must be text'): Rule<string> {
  return {
    check: (value) => (typeof value === 'string' && value !== '' && (pattern === undefined || pattern.test(value)) ? ok(value) : fail(must)),
    fromText: (t) => t,
  };
}

/** A secret: at least `minLength` characters of `characters` (printable ASCII without spaces by default). */
export function secret(minLength: number, characters = /^[\x21-\x7e]+$/, charactersHint = 'without spaces'): Rule<string> {
  const must = `must be at least ${minLength} characters ${charactersHint} (e.g. the output of: openssl rand -hex 32)`;
  return {
    check: (value) => (typeof value === 'string' && value.length >= minLength && characters.test(value) ? ok(value) : fail(must)),
    fromText: (t) => t,
    secret: true,
  };
}

/** A credential of the provider's own making (an auth token, an API key): any non-empty text, never repeated. */
export function credential(): Rule<string> {
  return { ...text(/^\S+$/, 'must be the credential as issued, without spaces'), secret: true };
}

export function httpUrl(): Rule<string> {
  return text(/^https?:\/\/\S+$/, 'must be an http(s) URL');
}

export function e164(): Rule<string> {
  return text(E164_PATTERN, `must be ${E164_HINT}`);
}

/**
 * The public origin Twilio reaches. Twilio only opens media streams to wss:// and signs webhooks over the exact
 * public URL (https://www.twilio.com/docs/usage/webhooks/webhooks-security), so it is an https origin without a
 * path; the placeholders of .env.example and the docs (your-subdomain.ngrok.app) reach nobody.
 */
export function publicOrigin(): Rule<URL> {
  return {
    check(value) {
      let url: URL;
      try {
        url = new URL(value instanceof URL ? value.href : String(value));
      } catch {
        return fail('is not a URL');
      }
      const problems = [
        ...(url.protocol === 'https:' ? [] : ['must start with https://, since Twilio only streams to wss://']),
        ...(/^your-/i.test(url.hostname) ? ["is still a placeholder: set your tunnel's or server's https origin, or leave it empty"] : []),
        ...(url.pathname === '/' && url.search === '' && url.hash === '' ? [] : ['must be an origin such as https://abc123.ngrok.app, without a path or query']),
      ];
      return problems.length === 0 ? ok(url) : fail(problems.join('; '));
    },
    fromText: (t) => t,
  };
}

/** One problem, worded for a person: the setting's name, what is wrong, and the value unless it is a secret. */
export function problemLine(name: string, rule: Rule<unknown>, problem: string, value: unknown): string {
  return `${name} ${problem}${rule.secret === true ? '' : ` (got ${shown(value)})`}`;
}

/** How a wrong value is shown: secrets never; text and numbers as JSON; anything else by its kind. */
export function shown(value: unknown): string {
  if (value instanceof URL) return JSON.stringify(value.href);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}
