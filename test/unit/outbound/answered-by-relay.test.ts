import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TwilioAnsweredBy } from '../../../src/domain/answered-by.js';
import { ANSWERED_BY_POLL_MS, ANSWERED_BY_WAIT_MS, AnsweredByRelay, type VerdictTaker } from '../../../src/outbound/answered-by-relay.js';
import { MemoryCallStateStore } from '../../../src/state/memory-call-state.js';
import { capturingLogger } from '../../support/log-capture.js';

const CALL = `CA${'a'.repeat(32)}`;
const TTLS = { tokenTtlMs: 60_000, callTtlMs: 600_000 };

class Call implements VerdictTaker {
  readonly verdicts: TwilioAnsweredBy[] = [];
  onTwilioAnsweredBy(answeredBy: TwilioAnsweredBy): void {
    this.verdicts.push(answeredBy);
  }
}

async function answered(store: MemoryCallStateStore): Promise<void> {
  await store.answer({ callSid: CALL, from: '+14155550100', to: '+14155550142', direction: 'outbound-api', agent: 'a', instanceId: 'agent-1' });
}

describe("AnsweredByRelay: Twilio's verdict reaches the call wherever it lives", () => {
  afterEach(() => vi.useRealTimers());

  it('gives the verdict to a call living here, once, and shares it through the state', async () => {
    const store = new MemoryCallStateStore(TTLS);
    await answered(store);
    const call = new Call();
    const relay = new AnsweredByRelay({ state: store, shared: false, liveCall: () => call, log: capturingLogger().log });
    relay.received(CALL, 'machine_end_beep');
    relay.received(CALL, 'machine_end_beep');
    expect(call.verdicts).toEqual(['machine_end_beep']);
    await vi.waitFor(async () => expect((await store.get(CALL))?.answeredBy).toBe('machine_end_beep'));
  });

  it('gives a call starting here the verdict that came before its stream', async () => {
    const store = new MemoryCallStateStore(TTLS);
    await answered(store);
    let call: Call | undefined;
    const relay = new AnsweredByRelay({ state: store, shared: false, liveCall: () => call, log: capturingLogger().log });
    relay.received(CALL, 'human'); // no call here yet
    call = new Call();
    relay.watch(CALL);
    await vi.waitFor(() => expect(call!.verdicts).toEqual(['human']));
  });

  it('in a fleet, looks in the shared state every poll for a verdict another instance received, until it comes or the wait ends', async () => {
    vi.useFakeTimers();
    const store = new MemoryCallStateStore(TTLS);
    await answered(store);
    const here = new Call();
    const relay = new AnsweredByRelay({ state: store, shared: true, liveCall: () => here, log: capturingLogger().log });
    relay.watch(CALL);
    await vi.advanceTimersByTimeAsync(3 * ANSWERED_BY_POLL_MS);
    expect(here.verdicts).toEqual([]);
    // Another instance got Twilio's callback and shared it.
    await store.saveAnsweredBy(CALL, 'fax');
    await vi.advanceTimersByTimeAsync(ANSWERED_BY_POLL_MS);
    expect(here.verdicts).toEqual(['fax']);
    const reads = vi.spyOn(store, 'get');
    await vi.advanceTimersByTimeAsync(10 * ANSWERED_BY_POLL_MS);
    expect(reads).not.toHaveBeenCalled(); // delivered: it stopped looking
  });

  it('in a fleet, gives up after ANSWERED_BY_WAIT_MS when no verdict ever comes (detection off, or Twilio never sent it)', async () => {
    vi.useFakeTimers();
    const store = new MemoryCallStateStore(TTLS);
    await answered(store);
    const call = new Call();
    const relay = new AnsweredByRelay({ state: store, shared: true, liveCall: () => call, log: capturingLogger().log });
    relay.watch(CALL);
    await vi.advanceTimersByTimeAsync(ANSWERED_BY_WAIT_MS - ANSWERED_BY_POLL_MS);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * ANSWERED_BY_POLL_MS);
    expect(vi.getTimerCount()).toBe(0);
    expect(call.verdicts).toEqual([]);
  });

  it('stops looking for a call that ended', async () => {
    vi.useFakeTimers();
    const store = new MemoryCallStateStore(TTLS);
    await answered(store);
    let call: Call | undefined = new Call();
    const relay = new AnsweredByRelay({ state: store, shared: true, liveCall: () => call, log: capturingLogger().log });
    relay.watch(CALL);
    await vi.advanceTimersByTimeAsync(ANSWERED_BY_POLL_MS);
    call = undefined; // the call ended: it no longer lives here
    await vi.advanceTimersByTimeAsync(2 * ANSWERED_BY_POLL_MS);
    expect(vi.getTimerCount()).toBe(0);
  });
});
