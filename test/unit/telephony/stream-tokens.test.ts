import { describe, expect, it } from 'vitest';
import { StreamTokenStore } from '../../../src/telephony/stream-tokens.js';

const CALL_A = `CA${'a'.repeat(32)}`;
const CALL_B = `CA${'b'.repeat(32)}`;
const info = (callSid: string) => ({ callSid, from: '+14155550123', to: '+14155550999', direction: 'inbound', agent: 'test-agent' });

describe('StreamTokenStore', () => {
  it('redeems a token once, for its own call only', () => {
    const store = new StreamTokenStore();
    const token = store.issue(info(CALL_A));
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.redeem(CALL_B, token)).toBeUndefined();
    expect(store.redeem(CALL_A, token)?.from).toBe('+14155550123');
    expect(store.redeem(CALL_A, token)).toBeUndefined();
  });

  it('refuses missing, wrong and expired tokens', () => {
    let now = 1_000;
    const store = new StreamTokenStore(60_000, () => now);
    const token = store.issue(info(CALL_A));
    expect(store.redeem(CALL_A, undefined)).toBeUndefined();
    expect(store.redeem(CALL_A, 'x'.repeat(43))).toBeUndefined();
    expect(store.redeem(CALL_A, `${token}x`)).toBeUndefined();
    now += 60_000;
    expect(store.redeem(CALL_A, token)).toBeUndefined();
  });

  it('keeps only the newest token when a webhook is retried, and sweeps expired ones', () => {
    let now = 0;
    const store = new StreamTokenStore(1_000, () => now);
    const first = store.issue(info(CALL_A));
    const second = store.issue(info(CALL_A));
    expect(store.redeem(CALL_A, first)).toBeUndefined();
    expect(store.redeem(CALL_A, second)).toBeDefined();
    store.issue(info(CALL_B));
    now = 5_000;
    store.issue(info(CALL_A));
    expect(store.outstanding).toBe(1);
  });
});
