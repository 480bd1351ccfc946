import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefusalLog } from '../../../src/observability/refusal-log.js';
import { capturingLogger } from '../../support/log-capture.js';

describe('RefusalLog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the first refusal from a source in full and counts the rest of the minute in one line', () => {
    const { log, lines } = capturingLogger();
    const refusals = new RefusalLog(log);
    refusals.warn('203.0.113.9', { hasSignature: false }, 'voice webhook refused: bad X-Twilio-Signature');
    for (let i = 0; i < 499; i++) refusals.warn('203.0.113.9', {}, 'voice webhook refused: bad X-Twilio-Signature');
    refusals.warn('203.0.113.9', {}, 'media stream refused: bad x-twilio-signature on upgrade');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ source: '203.0.113.9', hasSignature: false, msg: 'voice webhook refused: bad X-Twilio-Signature' });

    vi.advanceTimersByTime(59_000);
    expect(lines).toHaveLength(1); // still inside the minute
    vi.advanceTimersByTime(16_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      source: '203.0.113.9',
      count: 500,
      reasons: { 'voice webhook refused: bad X-Twilio-Signature': 499, 'media stream refused: bad x-twilio-signature on upgrade': 1 },
    });
  });

  it('a source that keeps at it costs one line a minute; one that stops costs nothing more', () => {
    const { log, lines } = capturingLogger();
    const refusals = new RefusalLog(log);
    for (let second = 0; second < 300; second++) {
      refusals.warn('198.51.100.7', {}, 'refused');
      vi.advanceTimersByTime(1_000);
    }
    // 5 minutes of one refusal a second: the first in full, then a count a minute.
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines.slice(1).every((line) => typeof line.count === 'number')).toBe(true);
    expect(lines.slice(1).reduce((sum, line) => sum + (line.count as number), 0) + 1).toBeLessThanOrEqual(300);
    const before = lines.length;
    vi.advanceTimersByTime(10 * 60_000);
    expect(lines.length - before).toBeLessThanOrEqual(1); // the last minute's count, then silence
    expect(vi.getTimerCount()).toBe(0); // nothing left running
  });

  it('each source has its own minute, a new one is logged at once after a quiet minute, and memory stays bounded', () => {
    const { log, lines } = capturingLogger();
    const refusals = new RefusalLog(log, { maxSources: 3 });
    for (const source of ['a', 'b', 'c', 'd', 'e']) refusals.warn(source, {}, 'refused');
    // a, b, c tracked; d and e share the "other sources" entry: its first is logged, the second counted.
    expect(lines.map((line) => line.source)).toEqual(['a', 'b', 'c', 'other sources']);
    vi.advanceTimersByTime(2 * 60_000);
    refusals.warn('a', {}, 'refused again');
    expect(lines.at(-1)).toMatchObject({ source: 'a', msg: 'refused again' });
  });

  it('close reports what is pending and stops', () => {
    const { log, lines } = capturingLogger();
    const refusals = new RefusalLog(log);
    refusals.warn(undefined, {}, 'refused');
    refusals.warn(undefined, {}, 'refused');
    refusals.close();
    expect(lines.map((line) => [line.source, line.count])).toEqual([['unknown', undefined], ['unknown', 1]]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
