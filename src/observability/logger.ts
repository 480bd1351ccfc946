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

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger({ level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service: 'gemini-phone-agent' },
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
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
          if (typeof serialized.message === 'string') serialized.message = redactPhoneNumbersInText(serialized.message);
          if (typeof serialized.stack === 'string') serialized.stack = redactPhoneNumbersInText(serialized.stack);
          return serialized;
        },
      },
    },
    destination,
  );
}
