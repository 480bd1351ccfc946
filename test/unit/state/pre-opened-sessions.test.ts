import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PreOpenedSessions, type PreOpenedCloseReason } from '../../../src/state/pre-opened-sessions.js';

interface FakeSession {
  id: string;
}

describe('PreOpenedSessions', () => {
  let closed: Array<[string, PreOpenedCloseReason]>;
  let expired: string[];
  let opens: number;
  let sessions: PreOpenedSessions<FakeSession>;
  const open = (id: string) => () => {
    opens++;
    return { id };
  };

  beforeEach(() => {
    vi.useFakeTimers();
    closed = [];
    expired = [];
    opens = 0;
    sessions = new PreOpenedSessions<FakeSession>({
      maxSessions: 2,
      timeoutMs: 10_000,
      close: (session, reason) => closed.push([session.id, reason]),
      onExpired: (callSid) => expired.push(callSid),
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands a session to its stream once, and never closes a taken session', () => {
    expect(sessions.add('CA1', open('s1'))).toEqual({ id: 's1' });
    expect(sessions.has('CA1')).toBe(true);
    expect(sessions.take('CA1')).toEqual({ id: 's1' });
    expect(sessions.take('CA1')).toBeUndefined();
    vi.advanceTimersByTime(60_000);
    expect(closed).toEqual([]);
    expect(sessions.size).toBe(0);
  });

  it('opens nothing new for a call that already has a session', () => {
    const first = sessions.add('CA1', open('s1'));
    expect(sessions.add('CA1', open('s1-again'))).toBe(first);
    expect(opens).toBe(1);
  });

  it('caps the sessions overall: beyond the cap a call gets none, and a place frees up when one is taken', () => {
    sessions.add('CA1', open('s1'));
    sessions.add('CA2', open('s2'));
    expect(sessions.add('CA3', open('s3'))).toBeUndefined();
    expect(opens).toBe(2);
    sessions.take('CA1');
    expect(sessions.add('CA3', open('s3'))).toEqual({ id: 's3' });
  });

  it('closes a session whose stream does not come within the timeout', () => {
    sessions.add('CA1', open('s1'));
    vi.advanceTimersByTime(5_000);
    sessions.add('CA2', open('s2'));
    vi.advanceTimersByTime(5_000);
    expect(closed).toEqual([['s1', 'expired']]);
    expect(expired).toEqual(['CA1']);
    expect(sessions.take('CA1')).toBeUndefined();
    vi.advanceTimersByTime(5_000);
    expect(closed).toEqual([['s1', 'expired'], ['s2', 'expired']]);
    expect(sessions.size).toBe(0);
  });

  it('closes every waiting session on shutdown, without firing their timers later', () => {
    sessions.add('CA1', open('s1'));
    sessions.add('CA2', open('s2'));
    sessions.closeAll();
    expect(closed).toEqual([['s1', 'closed'], ['s2', 'closed']]);
    vi.advanceTimersByTime(60_000);
    expect(closed).toHaveLength(2);
    expect(expired).toEqual([]);
  });
});
