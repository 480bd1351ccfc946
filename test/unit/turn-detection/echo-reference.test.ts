import { describe, expect, it } from 'vitest';
import { mulawEncodeSample } from '../../../src/audio/mulaw.js';
import { AgentEchoReference, ECHO_REACH_MS } from '../../../src/turn-detection/echo-reference.js';

/** `ms` of a 1 kHz tone at `dbfs` RMS, mu-law. */
function tone(ms: number, dbfs: number): Uint8Array {
  const amplitude = 32768 * Math.SQRT2 * 10 ** (dbfs / 20);
  return Uint8Array.from({ length: ms * 8 }, (_, n) => mulawEncodeSample(Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * n) / 8000))));
}

describe('AgentEchoReference', () => {
  it('answers with the loudest agent audio that can still echo into a window, and nothing before any played', () => {
    const reference = new AgentEchoReference();
    expect(reference.loudestDbfs(1000, 32)).toBe(-Infinity);
    reference.played(1000, tone(100, -30));
    reference.played(1100, tone(100, -12));
    reference.played(1200, tone(400, -30));
    // A window just after the loud part: within reach.
    expect(reference.loudestDbfs(1232, 32)).toBeCloseTo(-12, 0);
    // A window before the loud part started playing cannot hold its echo.
    const fresh = new AgentEchoReference();
    fresh.played(1000, tone(100, -30));
    fresh.played(1100, tone(100, -12));
    expect(fresh.loudestDbfs(1090, 32)).toBeCloseTo(-30, 0);
  });

  it('forgets audio beyond the echo’s reach, and audio a clear dropped', () => {
    const reference = new AgentEchoReference();
    reference.played(0, tone(200, -12));
    reference.played(200, tone(2000, -40));
    expect(reference.loudestDbfs(200 + ECHO_REACH_MS, 32)).toBeCloseTo(-12, 0);
    expect(reference.loudestDbfs(200 + ECHO_REACH_MS + 32 + 40, 32)).toBeCloseTo(-40, 0);
    reference.clearFrom(1000);
    expect(reference.loudestDbfs(1500, 32)).toBe(-Infinity);
  });

  it('keeps seconds of audio queued ahead of its playing', () => {
    const reference = new AgentEchoReference();
    reference.played(0, tone(5000, -40)); // 250 frames, far more than its first buffer
    reference.played(5000, tone(100, -10));
    expect(reference.loudestDbfs(4900, 32)).toBeCloseTo(-40, 0);
    expect(reference.loudestDbfs(5100, 32)).toBeCloseTo(-10, 0);
  });
});
