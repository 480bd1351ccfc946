import pino, { type Logger } from 'pino';
import { redactPhoneNumbersInText } from './redact.js';

export type { Logger };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Field names that may carry secrets or personal data. pino removes them wherever they appear at
 * these depths, so a careless `log.info({ config })` cannot leak a key.
 */
const SECRET_PATHS = [
  'apiKey', 'authToken', 'token', 'signature', 'password', 'secret',
  '*.apiKey', '*.authToken', '*.token', '*.signature', '*.password', '*.secret',
  'headers["x-twilio-signature"]', 'headers.authorization', 'req.headers["x-twilio-signature"]', 'req.headers.authorization',
  'customParameters', '*.customParameters',
];

/**
 * Fields that carry what the caller or the agent said. Logs leave them out unless `transcripts` is on
 * (LOG_TRANSCRIPTS=1): speech is personal data, and an info log is kept and shipped far more widely than a recording.
 */
export const TRANSCRIPT_FIELDS: ReadonlySet<string> = new Set(['callerSaid', 'agentSaid', 'transcript']);

/** How deep into logged objects strings are scrubbed; deeper values are logged as a placeholder. */
const MAX_SCRUB_DEPTH = 8;

export interface LoggerOptions {
  level: LogLevel;
  /** Keep TRANSCRIPT_FIELDS in log lines (LOG_TRANSCRIPTS=1). Off by default. */
  transcripts?: boolean;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger({ level, destination, transcripts = false }: LoggerOptions): Logger {
  const scrub = (fields: Record<string, unknown>): Record<string, unknown> => scrubFields(fields, transcripts, 0) as Record<string, unknown>;
  const logger = pino(
    {
      level,
      base: { service: 'gemini-phone-agent' },
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      // Phone numbers hide in object fields too (`{ to }`, a webhook body): scrub every string in what is logged. The
      // caller's object is copied, never changed.
      formatters: { log: scrub },
      hooks: {
        // Phone numbers can hide in messages and error texts; scrub every string argument.
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            const arg = args[i];
            if (typeof arg === 'string') args[i] = redactPhoneNumbersInText(arg);
          }
          method.apply(this, args);
        },
      },
      serializers: {
        err: (error: unknown) => {
          const serialized = pino.stdSerializers.err(error as Error);
          if (typeof serialized !== 'object' || serialized === null) return serialized; // `err: 'text'`: a string is no error object
          // Message, stack, cause and any fields the error carries (a Twilio error's details, say).
          const fields = serialized as unknown as Record<string, unknown>;
          for (const key of Object.keys(fields)) fields[key] = scrubFields(fields[key], transcripts, 1, true);
          return serialized;
        },
      },
    },
    destination ?? standardOutput(),
  );
  // Child bindings are written once, at `child()`, without the log formatter: scrub them there. Children are
  // created from this instance's prototype chain, so their children get the same `child`.
  const childOf = Object.getPrototypeOf(logger) as { child: Logger['child'] };
  logger.child = function scrubbedChild(this: Logger, bindings, options) {
    return childOf.child.call(this, scrub(bindings), options) as never;
  } as Logger['child'];
  return logger;
}

/** A copy of plain objects and arrays with phone numbers masked in every string and transcripts left out. */
function scrubFields(value: unknown, transcripts: boolean, depth: number, serializedError = false): unknown {
  if (typeof value === 'string') return redactPhoneNumbersInText(value);
  if (value === null || typeof value !== 'object') return value;
  // Errors go through the err serializer; Buffers, Dates, URLs and the like are not nested data to walk.
  const isArray = Array.isArray(value);
  // A serialized error's cause has pino's own prototype but is plain data like the rest.
  if (!isArray && !serializedError && Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  if (depth >= MAX_SCRUB_DEPTH) return '[too deep]';
  if (isArray) return value.map((item: unknown) => scrubFields(item, transcripts, depth + 1, serializedError));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (!transcripts && TRANSCRIPT_FIELDS.has(key)) continue;
    out[key] = scrubFields(item, transcripts, depth + 1, serializedError);
  }
  return out;
}

/**
 * Standard output for the log. When whoever reads it goes away (a closed pipe: EPIPE), the log is lost but the
 * service is not: the error is swallowed here instead of becoming an uncaught exception (which, written to the
 * same closed pipe, would fail again, for ever).
 */
function standardOutput(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: true });
  stream.on('error', () => undefined);
  return stream;
}
