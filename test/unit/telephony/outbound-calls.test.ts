import { describe, expect, it } from 'vitest';
import { isOutboundCall, otherPartyNumber } from '../../../src/domain/call-details.js';
import { isFinalCallStatus, outboundNumberProblem, PendingOutboundCalls, RollingWindowLimit } from '../../../src/telephony/outbound-calls.js';

const OURS = '+14155550100';

describe('outboundNumberProblem', () => {
  it('accepts an E.164 number other than ours', () => {
    expect(outboundNumberProblem('+442071838750', OURS)).toBeUndefined();
  });

  it.each([
    [undefined, /required/],
    ['', /required/],
    [4155550123, /required/],
    ['4155550123', /E\.164/],
    ['+1 415 555 0123', /E\.164/],
    ['+0155550123', /E\.164/],
    ['+1234567890123456', /E\.164/],
    [OURS, /our own number/],
  ])('refuses %j', (to, problem) => {
    expect(outboundNumberProblem(to, OURS)).toMatch(problem);
  });
});

describe('call direction', () => {
  it('takes the callee as the other party of a call we placed, the caller otherwise', () => {
    expect(isOutboundCall({ direction: 'outbound-api' })).toBe(true);
    expect(isOutboundCall({ direction: 'inbound' })).toBe(false);
    expect(isOutboundCall({ direction: undefined })).toBe(false);
    expect(otherPartyNumber({ direction: 'outbound-api', from: OURS, to: '+14155550142' })).toBe('+14155550142');
    expect(otherPartyNumber({ direction: 'inbound', from: '+14155550142', to: OURS })).toBe('+14155550142');
  });

  it('has no number for a withheld caller or a SIP or client identity', () => {
    expect(otherPartyNumber({ direction: 'inbound', from: 'anonymous', to: OURS })).toBeUndefined();
    expect(otherPartyNumber({ direction: 'inbound', from: 'client:alice', to: OURS })).toBeUndefined();
    expect(otherPartyNumber({ direction: 'outbound-api', from: OURS, to: undefined })).toBeUndefined();
  });
});

describe('PendingOutboundCalls', () => {
  it('holds a place while placing and while ringing, until answered or ended', () => {
    const pending = new PendingOutboundCalls(60_000, () => 0);
    const first = pending.reserve();
    const second = pending.reserve();
    expect(pending.count).toBe(2);
    first.placed('CA1');
    second.failed();
    expect(pending.count).toBe(1);
    // A reservation settles once: a late second outcome changes nothing.
    second.placed('CA2');
    first.failed();
    expect(pending.count).toBe(1);
    pending.release('CA-unknown');
    expect(pending.count).toBe(1);
    pending.release('CA1');
    expect(pending.count).toBe(0);
  });

  it('stops holding a place for a call nobody reported on after the ring time', () => {
    let now = 0;
    const pending = new PendingOutboundCalls(60_000, () => now);
    pending.reserve().placed('CA1');
    now = 59_999;
    expect(pending.count).toBe(1);
    now = 60_000;
    expect(pending.count).toBe(0);
  });
});

describe('RollingWindowLimit', () => {
  it('allows `limit` per rolling window and says when the next slot frees up', () => {
    let now = 1_000;
    const limit = new RollingWindowLimit(2, 60_000, () => now);
    expect(limit.take()).toEqual({ allowed: true });
    now = 21_000;
    expect(limit.take()).toEqual({ allowed: true });
    now = 30_000;
    expect(limit.take()).toEqual({ allowed: false, retryAfterMs: 31_000 });
    now = 61_000; // the first slot has left the window
    expect(limit.take()).toEqual({ allowed: true });
    expect(limit.take()).toEqual({ allowed: false, retryAfterMs: 20_000 });
  });
});

describe('isFinalCallStatus', () => {
  it('knows which statuses end a call', () => {
    for (const status of ['completed', 'busy', 'no-answer', 'failed', 'canceled']) expect(isFinalCallStatus(status)).toBe(true);
    for (const status of ['queued', 'initiated', 'ringing', 'in-progress', undefined]) expect(isFinalCallStatus(status)).toBe(false);
  });
});
