import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { redactPhoneNumber, redactPhoneNumbersInText } from '../../../src/observability/redact.js';

describe('phone number redaction', () => {
  it('keeps the first and last two digits only', () => {
    expect(redactPhoneNumber('+14155550123')).toBe('+1********23');
    expect(redactPhoneNumbersInText('caller +1 (415) 555-0123 asked for +442071838750')).toBe('caller +1********23 asked for +4*********50');
  });
});

describe('logger', () => {
  function capture(): { lines: () => string; destination: Writable } {
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    return { lines: () => text, destination };
  }

  it('never writes secrets or phone numbers', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.info({ apiKey: 'AIza-secret', authToken: 'twilio-secret', config: { token: 'stream-secret' } }, 'call from +14155550123');
    log.error({ err: new Error('failed for +14155550123') }, 'boom');
    const text = lines();
    for (const secret of ['AIza-secret', 'twilio-secret', 'stream-secret', '+14155550123', '5550123']) expect(text).not.toContain(secret);
    expect(text).toContain('+1********23');
  });
});
