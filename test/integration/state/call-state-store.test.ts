import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StateUnavailableError, type CallRecord, type CallStateStore, type CallStateTtls } from '../../../src/state/call-state.js';
import { MemoryCallStateStore } from '../../../src/state/memory-call-state.js';
import { openCallStateStore } from '../../../src/state/open-call-state.js';
import { RedisCallStateStore } from '../../../src/state/redis-call-state.js';
import { capturingLogger, sleep } from '../../support/log-capture.js';
import { startRedisServer, type RedisServer } from '../../support/redis-server.js';

let redis: RedisServer;
const opened: CallStateStore[] = [];
let prefixCounter = 0;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

const LONG: CallStateTtls = { tokenTtlMs: 60_000, callTtlMs: 3_600_000 };

interface Harness {
  /** Two handles on the same state: two instances of the fleet (memory: the same object, one process). */
  stores: [CallStateStore, CallStateStore];
  /** Lets `ms` pass for the store's clock. */
  advance(ms: number): Promise<void>;
}

const implementations: Array<[string, (ttls: CallStateTtls) => Promise<Harness>]> = [
  [
    'memory',
    async (ttls) => {
      let now = 1_000_000;
      const store = new MemoryCallStateStore(ttls, () => now);
      opened.push(store);
      return {
        stores: [store, store],
        advance: async (ms) => {
          now += ms;
        },
      };
    },
  ],
  [
    'redis',
    async (ttls) => {
      const keyPrefix = `test${++prefixCounter}:`;
      const make = async () => {
        const store = new RedisCallStateStore({ url: redis.url, ttls, keyPrefix, log: capturingLogger().log });
        opened.push(store);
        expect(await store.ready(5_000)).toBe(true);
        return store;
      };
      return { stores: [await make(), await make()], advance: (ms) => sleep(ms) };
    },
  ],
];

let sidCounter = 0;
function newCall(overrides: Partial<CallRecord> = {}): CallRecord {
  const callSid = `CA${(++sidCounter).toString(16).padStart(32, '0')}`;
  return { callSid, from: '+15550001111', to: '+15550002222', direction: 'inbound', agent: 'restaurant', instanceId: 'agent-a', ...overrides };
}

describe.each(implementations)('CallStateStore contract: %s', (_name, open) => {
  it('answers a CallSid once: a repeat while the token is unredeemed gets the same token, later repeats are refused', async () => {
    const { stores: [a, b] } = await open(LONG);
    const call = newCall();
    const first = await a.answer(call);
    expect(first.outcome).toBe('answered');
    const token = first.outcome === 'answered' ? first.token : '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await b.answer({ ...call, instanceId: 'agent-b' })).toEqual({ outcome: 'repeat', token, instanceId: call.instanceId }); // the first answerer, not the asker
    expect(await b.redeem(call.callSid, token)).toBeDefined();
    expect(await a.answer(call)).toEqual({ outcome: 'refused' });
    expect(await b.answer(call)).toEqual({ outcome: 'refused' });
  });

  it('redeems a token once across the fleet, returning the call record to the instance that redeems it', async () => {
    const { stores: [a, b] } = await open(LONG);
    const call = newCall({ from: undefined });
    const answer = await a.answer(call);
    const token = answer.outcome === 'answered' ? answer.token : '';
    expect(await b.redeem(call.callSid, undefined)).toBeUndefined();
    expect(await b.redeem(call.callSid, `${token.slice(0, -2)}AA`)).toBeUndefined();
    expect(await b.redeem(call.callSid, 'short')).toBeUndefined();
    expect(await b.redeem(newCall().callSid, token)).toBeUndefined();
    const redeemed = await b.redeem(call.callSid, token);
    expect(redeemed).toEqual({ call, resumptionHandle: undefined, streamNumber: 1, failover: false });
    expect(await a.redeem(call.callSid, token)).toBeUndefined();
    expect(await b.redeem(call.callSid, token)).toBeUndefined();
    expect((await a.get(call.callSid))?.phase).toBe('streaming');
  });

  it('lets exactly one of many concurrent redeems win', async () => {
    const { stores: [a, b] } = await open(LONG);
    const call = newCall();
    const answer = await a.answer(call);
    const token = answer.outcome === 'answered' ? answer.token : '';
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).redeem(call.callSid, token)));
    expect(results.filter((result) => result !== undefined)).toHaveLength(1);
  });

  it('reissues a fresh token after a lost stream, naming the new instance, and the next stream resumes from the stored handle', async () => {
    const { stores: [a, b] } = await open(LONG);
    const call = newCall();
    const answer = await a.answer(call);
    const first = answer.outcome === 'answered' ? answer.token : '';
    await a.redeem(call.callSid, first);
    await a.saveResumptionHandle(call.callSid, 'handle-1');
    await a.saveResumptionHandle(call.callSid, 'handle-2');
    // agent-a dies without a word; Twilio requests the <Connect action>, agent-b answers it.
    const reissued = await b.reissue(call.callSid, 'agent-b');
    expect(reissued).toMatchObject({ call: { ...call, instanceId: 'agent-b' }, repeat: false });
    expect(reissued!.token).not.toBe(first);
    expect(await a.redeem(call.callSid, first)).toBeUndefined();
    expect(await a.reissue(call.callSid, 'agent-a')).toEqual({ ...reissued, repeat: true });
    // The replayed first webhook gets no new session.
    expect(await a.answer(call)).toEqual({ outcome: 'refused' });
    const resumed = await a.redeem(call.callSid, reissued!.token);
    expect(resumed).toEqual({ call: { ...call, instanceId: 'agent-b' }, resumptionHandle: 'handle-2', streamNumber: 2, failover: true });
    expect(await a.get(call.callSid)).toEqual({
      call: { ...call, instanceId: 'agent-b' },
      phase: 'streaming',
      resumptionHandle: 'handle-2',
      streams: 2,
      reissues: 1,
      answeredBy: undefined,
      transfer: undefined,
    });
  });

  it("shares Twilio's AMD verdict and a warm transfer's whisper and acceptance across the fleet; a new transfer starts unaccepted", async () => {
    const { stores: [a, b] } = await open(LONG);
    const call = newCall();
    await a.answer(call);
    await a.saveAnsweredBy(call.callSid, 'machine_end_beep');
    expect(await b.acceptTransfer(call.callSid)).toBe(false); // no transfer under way
    await a.saveTransfer(call.callSid, { to: '+14155550177', whisper: 'Ana wants to move her booking to Friday.' });
    expect(await b.get(call.callSid)).toMatchObject({ answeredBy: 'machine_end_beep', transfer: { to: '+14155550177', whisper: 'Ana wants to move her booking to Friday.', accepted: false } });
    expect(await b.acceptTransfer(call.callSid)).toBe(true);
    expect((await a.get(call.callSid))?.transfer?.accepted).toBe(true);
    await b.saveTransfer(call.callSid, { to: '+14155550188', whisper: 'Second try.' });
    expect((await a.get(call.callSid))?.transfer).toEqual({ to: '+14155550188', whisper: 'Second try.', accepted: false });
    // Unknown calls stay unknown.
    const stranger = newCall().callSid;
    await a.saveAnsweredBy(stranger, 'human');
    await a.saveTransfer(stranger, { to: '+14155550177', whisper: 'x' });
    expect(await b.acceptTransfer(stranger)).toBe(false);
    expect(await b.get(stranger)).toBeUndefined();
  });

  it('refuses to reissue for a call ended on purpose (and that is final), but does after a lost stream', async () => {
    const { stores: [a, b] } = await open(LONG);
    const lost = newCall();
    const ended = newCall();
    for (const call of [lost, ended]) {
      const answer = await a.answer(call);
      await a.redeem(call.callSid, answer.outcome === 'answered' ? answer.token : '');
    }
    await a.markEnded(lost.callSid, { onPurpose: false });
    expect((await b.get(lost.callSid))?.phase).toBe('stream-lost');
    expect(await b.reissue(lost.callSid, 'agent-b')).toBeDefined();

    await a.markEnded(ended.callSid, { onPurpose: true });
    await a.markEnded(ended.callSid, { onPurpose: false });
    expect((await b.get(ended.callSid))?.phase).toBe('ended');
    expect(await b.reissue(ended.callSid, 'agent-b')).toBeUndefined();
    expect(await b.answer(ended)).toEqual({ outcome: 'refused' });
    expect(await b.reissue(newCall().callSid, 'agent-b')).toBeUndefined();
  });

  it('revokes an outstanding token when the call ends', async () => {
    const { stores: [a, b] } = await open(LONG);
    const call = newCall();
    const answer = await a.answer(call);
    await a.markEnded(call.callSid, { onPurpose: true });
    expect(await b.redeem(call.callSid, answer.outcome === 'answered' ? answer.token : '')).toBeUndefined();
    expect(await b.answer(call)).toEqual({ outcome: 'refused' });
  });

  it('agrees on a value: the first proposal is stored, every later one gets it', async () => {
    const [a, b] = (await open(LONG)).stores;
    expect(await a.agreeOn('browser-phone-key', 'first-key')).toBe('first-key');
    expect(await b.agreeOn('browser-phone-key', 'second-key')).toBe('first-key');
    expect(await a.agreeOn('another-name', 'other')).toBe('other');
  });

  it('lets tokens expire after the token TTL, and forgets calls after the call TTL', async () => {
    const { stores: [a, b], advance } = await open({ tokenTtlMs: 300, callTtlMs: 900 });
    const call = newCall();
    const answer = await a.answer(call);
    await advance(450);
    expect(await b.redeem(call.callSid, answer.outcome === 'answered' ? answer.token : '')).toBeUndefined();
    // An answered call whose stream never came: a replay of its webhook is refused, not answered again.
    expect(await b.answer(call)).toEqual({ outcome: 'refused' });
    expect(await b.get(call.callSid)).toBeDefined();
    await advance(1_000);
    expect(await b.get(call.callSid)).toBeUndefined();
    expect(await b.reissue(call.callSid, 'agent-b')).toBeUndefined();
    await b.saveResumptionHandle(call.callSid, 'late');
    expect(await b.get(call.callSid)).toBeUndefined();
  });
});

describe('RedisCallStateStore', () => {
  it('stores both keys of a call with TTLs, in one hash slot', async () => {
    const store = new RedisCallStateStore({ url: redis.url, ttls: { tokenTtlMs: 60_000, callTtlMs: 3_900_000 }, keyPrefix: 'ttl:', log: capturingLogger().log });
    opened.push(store);
    await store.ready(5_000);
    const call = newCall();
    await store.answer(call);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const tokenTtl = await client.pTTL(`ttl:{${call.callSid}}:token`);
      const callTtl = await client.pTTL(`ttl:{${call.callSid}}:call`);
      expect(tokenTtl).toBeGreaterThan(55_000);
      expect(tokenTtl).toBeLessThanOrEqual(60_000);
      expect(callTtl).toBeGreaterThan(3_800_000);
      expect(callTtl).toBeLessThanOrEqual(3_900_000);
    } finally {
      client.destroy();
    }
  });

  it('fails fast with StateUnavailableError while Redis is down, logs the outage once, counts errors, and recovers by itself', async () => {
    const { log, lines } = capturingLogger();
    const errors: Error[] = [];
    const store = new RedisCallStateStore({ url: redis.url, ttls: LONG, keyPrefix: 'outage:', log, onError: (error) => errors.push(error) });
    opened.push(store);
    expect(await store.ready(5_000)).toBe(true);
    expect(store).toMatchObject({ shared: true, available: true });
    const inProgress = newCall();
    await store.answer(inProgress);

    await redis.stop();
    const startedAt = Date.now();
    await expect(store.answer(newCall())).rejects.toBeInstanceOf(StateUnavailableError);
    await expect(store.get(inProgress.callSid)).rejects.toBeInstanceOf(StateUnavailableError);
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    await sleep(1_000); // several reconnect attempts
    expect(store.available).toBe(false);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(store.errors).toBe(errors.length);
    const outageLines = lines.filter((line) => line.msg.startsWith('Redis unreachable'));
    expect(outageLines).toHaveLength(1);

    await redis.start(); // empty: a restarted Redis without persistence
    expect(await store.ready(5_000)).toBe(true);
    expect(lines.some((line) => line.msg.startsWith('Redis reachable again'))).toBe(true);
    expect((await store.answer(newCall())).outcome).toBe('answered');
  });

  it('puts back the values agreed on when Redis comes back empty, so no instance makes a new one', async () => {
    const store = new RedisCallStateStore({ url: redis.url, ttls: LONG, keyPrefix: 'agree:', log: capturingLogger().log });
    opened.push(store);
    expect(await store.ready(5_000)).toBe(true);
    expect(await store.agreeOn('browser-phone-key', 'the-fleet-key')).toBe('the-fleet-key');
    await redis.stop();
    await expect(store.agreeOn('browser-phone-key', 'x')).rejects.toBeInstanceOf(StateUnavailableError);
    await redis.start(); // empty: a restarted Redis without persistence
    expect(await store.ready(5_000)).toBe(true);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      await expect.poll(() => client.get('agree:agreed:browser-phone-key'), { timeout: 2_000 }).toBe('the-fleet-key');
    } finally {
      client.destroy();
    }
    const late = new RedisCallStateStore({ url: redis.url, ttls: LONG, keyPrefix: 'agree:', log: capturingLogger().log });
    opened.push(late);
    expect(await late.ready(5_000)).toBe(true);
    expect(await late.agreeOn('browser-phone-key', 'a-new-key')).toBe('the-fleet-key');
  });

  it('starts while Redis is unreachable and connects when it comes up', async () => {
    const { log, lines } = capturingLogger();
    await redis.stop();
    const store = new RedisCallStateStore({ url: redis.url, ttls: LONG, keyPrefix: 'late:', log });
    opened.push(store);
    try {
      expect(await store.ready(300)).toBe(false);
      await expect(store.answer(newCall())).rejects.toBeInstanceOf(StateUnavailableError);
    } finally {
      await redis.start();
    }
    expect(await store.ready(5_000)).toBe(true);
    expect((await store.answer(newCall())).outcome).toBe('answered');
    expect(lines.filter((line) => line.msg.startsWith('Redis unreachable'))).toHaveLength(1);
    expect(lines.filter((line) => line.msg.startsWith('Redis reachable again'))).toHaveLength(1);
  });

  it('is what openCallStateStore opens with REDIS_URL, counting errors through onRedisError', async () => {
    const errors: Error[] = [];
    const store = openCallStateStore({ redisUrl: redis.url, maxCallDurationMs: 60_000, log: capturingLogger().log, onRedisError: (error) => errors.push(error) });
    opened.push(store);
    expect(store).toBeInstanceOf(RedisCallStateStore);
    expect(await (store as RedisCallStateStore).ready(5_000)).toBe(true);
    expect((await store.answer(newCall())).outcome).toBe('answered');
    expect(errors).toEqual([]);
  });

  it('reports an unreachable host as unavailable, and closes cleanly while reconnecting', async () => {
    const store = new RedisCallStateStore({ url: 'redis://127.0.0.1:1', ttls: LONG, log: capturingLogger().log });
    await expect(store.redeem('CA00000000000000000000000000000000', 'x')).rejects.toBeInstanceOf(StateUnavailableError);
    await store.close();
    await expect(store.get('CA00000000000000000000000000000000')).rejects.toBeInstanceOf(StateUnavailableError);
  });
});
