import { describe, expect, it } from 'vitest';
import { callStateTtls, CALL_RECORD_MARGIN_MS, STREAM_TOKEN_TTL_MS, type CallRecord } from '../../../src/state/call-state.js';
import { MemoryCallStateStore } from '../../../src/state/memory-call-state.js';

const call = (n: number): CallRecord => ({
  callSid: `CA${n.toString(16).padStart(32, '0')}`,
  from: undefined,
  to: undefined,
  direction: 'inbound',
  agent: 'restaurant',
  instanceId: 'local',
});

describe('MemoryCallStateStore (one process)', () => {
  it('derives TTLs from the maximum call duration', () => {
    expect(callStateTtls(3_600_000)).toEqual({ tokenTtlMs: STREAM_TOKEN_TTL_MS, callTtlMs: 3_600_000 + CALL_RECORD_MARGIN_MS });
  });

  it('counts the tokens still redeemable, as the capacity check needs', async () => {
    let now = 0;
    const store = new MemoryCallStateStore({ tokenTtlMs: 100, callTtlMs: 1_000 }, () => now);
    expect(store).toMatchObject({ shared: false, available: true });
    const first = await store.answer(call(1));
    await store.answer(call(2));
    expect(store.outstandingTokens).toBe(2);
    await store.redeem(call(1).callSid, first.outcome === 'answered' ? first.token : '');
    expect(store.outstandingTokens).toBe(1);
    now = 150;
    expect(store.outstandingTokens).toBe(0);
  });

  it('caps the calls it remembers, forgetting the oldest first', async () => {
    const store = new MemoryCallStateStore({ tokenTtlMs: 60_000, callTtlMs: 60_000 }, () => 0, 3);
    for (let n = 1; n <= 4; n++) await store.answer(call(n));
    expect(await store.get(call(1).callSid)).toBeUndefined();
    for (let n = 2; n <= 4; n++) expect(await store.get(call(n).callSid)).toBeDefined();
  });
});

describe('openCallStateStore', () => {
  it('keeps call state in memory without REDIS_URL', async () => {
    const { openCallStateStore } = await import('../../../src/state/open-call-state.js');
    const { capturingLogger } = await import('../../support/log-capture.js');
    const store = openCallStateStore({ redisUrl: undefined, maxCallDurationMs: 60_000, log: capturingLogger().log });
    expect(store).toBeInstanceOf(MemoryCallStateStore);
    await store.close();
  });
});
