import { afterEach, describe, expect, it, vi } from 'vitest';
import { browserPhoneAccessKey, FLEET_ACCESS_KEY_NAME, FLEET_ACCESS_KEY_WAIT_MS } from '../../../src/browser-phone/access-key.js';
import { StateUnavailableError } from '../../../src/state/call-state.js';

afterEach(() => {
  vi.useRealTimers();
});

describe("the browser phone's access key", () => {
  it('is BROWSER_PHONE_KEY when set, else random per start without a fleet', async () => {
    expect(await browserPhoneAccessKey({ configured: 'k'.repeat(32), fleet: undefined })).toEqual({ key: 'k'.repeat(32), source: 'BROWSER_PHONE_KEY' });
    const a = await browserPhoneAccessKey({ configured: undefined, fleet: undefined });
    const b = await browserPhoneAccessKey({ configured: undefined, fleet: undefined });
    expect(a.source).toBe('this-start');
    expect(a.key).toMatch(/^[\w-]{32}$/);
    expect(a.key).not.toBe(b.key);
  });

  it("in a fleet, is the one the shared state holds: the first instance's", async () => {
    const stored = new Map<string, string>();
    const fleet = { agreeOn: async (name: string, proposed: string) => stored.get(name) ?? (stored.set(name, proposed), proposed) };
    const first = await browserPhoneAccessKey({ configured: undefined, fleet });
    const second = await browserPhoneAccessKey({ configured: undefined, fleet });
    expect(second).toEqual({ key: first.key, source: 'fleet' });
    expect([...stored.keys()]).toEqual([FLEET_ACCESS_KEY_NAME]);
  });

  it('waits for Redis to come up, then gives up saying what to do', async () => {
    vi.useFakeTimers();
    let up = false;
    const fleet = {
      agreeOn: async (_name: string, proposed: string) => {
        if (!up) throw new StateUnavailableError('Redis is unavailable (agreeOn): not connected');
        return proposed;
      },
    };
    const late = browserPhoneAccessKey({ configured: undefined, fleet });
    await vi.advanceTimersByTimeAsync(3_000);
    up = true;
    await vi.advanceTimersByTimeAsync(200);
    expect((await late).source).toBe('fleet');

    up = false;
    const never = browserPhoneAccessKey({ configured: undefined, fleet }).catch((error: unknown) => error as Error);
    await vi.advanceTimersByTimeAsync(FLEET_ACCESS_KEY_WAIT_MS + 200);
    expect(((await never) as Error).message).toMatch(/^the browser phone's access key is shared by the fleet through Redis \(REDIS_URL\), which did not answer within 10 s: start Redis, set BROWSER_PHONE_KEY \(the same on every instance\), or BROWSER_PHONE=0$/);
  });
});
