import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { describeFailure, redactPhoneNumber, redactPhoneNumbersInText } from '../../../src/observability/redact.js';

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

  it('masks phone numbers in object fields, nested objects, arrays, bindings and error fields, without changing the logged object', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination }).child({ callSid: 'CA1' }).child({ caller: '+14155550123' });
    const fields = { to: '+442071838750', call: { from: '+1 415 555 0199', numbers: ['+33612345678'] } };
    log.info(fields, 'transfer');
    log.error({ err: Object.assign(new Error('failed', { cause: new Error('no route to +14155550123') }), { details: { to: '+442071838750' } }) }, 'boom');
    const text = lines();
    for (const number of ['+14155550123', '+442071838750', '415 555 0199', '+33612345678']) expect(text).not.toContain(number);
    expect(text).toContain('+4*********50');
    expect(fields.to).toBe('+442071838750'); // the caller's object is left alone
    const transfer = JSON.parse(text.split('\n')[0] as string) as { caller: string; call: { numbers: string[] } };
    expect(transfer.caller).toBe('+1********23');
    expect(transfer.call.numbers).toEqual(['+3********78']);
  });

  it('leaves transcripts out of log lines unless LOG_TRANSCRIPTS allows them', () => {
    const off = capture();
    createLogger({ level: 'debug', destination: off.destination }).info({ turn: 3, agentSaid: 'your table for two', nested: { callerSaid: 'my name is Ada' } }, 'caller interrupted the agent');
    const line = JSON.parse(off.lines()) as Record<string, unknown>;
    expect(line.turn).toBe(3);
    expect(line).not.toHaveProperty('agentSaid');
    expect(off.lines()).not.toContain('Ada');
    const on = capture();
    createLogger({ level: 'debug', destination: on.destination, transcripts: true }).info({ agentSaid: 'your table for two' }, 'caller interrupted the agent');
    expect(on.lines()).toContain('"agentSaid":"your table for two"');
  });
});

describe('describeFailure (what the browser phone page is told)', () => {
  it('keeps the first line of the error and masks keys, tokens and phone numbers', () => {
    const error = new Error('Unexpected server response: 403 from wss://generativelanguage.googleapis.com/ws/x?key=AIzaSyABCDEFGHIJKLMNOP&alt=json\n    at stack');
    expect(describeFailure(error)).toBe('Unexpected server response: 403 from wss://generativelanguage.googleapis.com/ws/x?key=[redacted]&alt=json');
    expect(describeFailure(new Error('Bearer abc.def rejected for +14155550123'))).toBe('Bearer [redacted] rejected for +1********23');
    expect(describeFailure('AIzaSyABCDEFGHIJKLMNOP leaked')).toBe('[redacted] leaked');
  });

  it('is short and never empty', () => {
    expect(describeFailure(new Error('x'.repeat(1_000))).length).toBeLessThanOrEqual(301);
    expect(describeFailure(new Error(''))).toBe('unknown error');
  });
});
