import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallerTimeline, INACTIVITY_MS, MAX_FILL_MS } from '../../../src/call/caller-timeline.js';

describe('CallerTimeline', () => {
  let clock = 0;
  let silence = 0;
  let timeline: CallerTimeline;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
    silence = 0;
    timeline = new CallerTimeline((frames) => (silence += frames * 20), () => clock);
  });
  afterEach(() => {
    timeline.dispose();
    vi.useRealTimers();
  });
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };

  it('a stream starting at a non-zero timestamp is not a hole', () => {
    timeline.frame(73_000, 20);
    timeline.frame(73_020, 20);
    expect(silence).toBe(0);
  });

  it('fills a hole between frames when the next frame arrives', () => {
    timeline.frame(0, 20);
    advance(20);
    timeline.frame(500, 20);
    expect(silence).toBe(480);
    expect(timeline.filledMs).toBe(480);
  });

  it('after the last frame, sends silence once the phone leg has been quiet for INACTIVITY_MS, and not twice for the hole', () => {
    timeline.frame(0, 20);
    advance(INACTIVITY_MS - 100);
    expect(silence).toBe(0);
    advance(200);
    expect(silence).toBeGreaterThanOrEqual(INACTIVITY_MS);
    advance(1_000);
    const sentWhileIdle = silence;
    expect(sentWhileIdle).toBeGreaterThanOrEqual(1_800);
    expect(sentWhileIdle).toBeLessThanOrEqual(1_900);
    // The next frame comes 2 s after the first: only what idle filling has not covered is added.
    timeline.frame(2_000, 20);
    expect(silence).toBe(1_980);
  });

  it('stops after MAX_FILL_MS', () => {
    timeline.frame(0, 20);
    advance(MAX_FILL_MS + 5_000);
    expect(silence).toBeLessThanOrEqual(MAX_FILL_MS);
    expect(silence).toBeGreaterThan(MAX_FILL_MS - 200);
  });
});
