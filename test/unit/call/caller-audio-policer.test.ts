import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BURST_ALLOWANCE_MS, CallerAudioPolicer, GAP_JITTER_MS, MAX_VIOLATIONS } from '../../../src/call/caller-audio-policer.js';
import { CallerTimeline, INACTIVITY_MS, MAX_FILL_MS } from '../../../src/call/caller-timeline.js';
import { seededRandom } from '../../support/tone-analysis.js';

describe('CallerAudioPolicer', () => {
  let clock = 1_000;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000;
  });

  it('forwards frames at real time, and frames late then together after a network stall', () => {
    const policer = new CallerAudioPolicer(now);
    for (let i = 0; i < 500; i++) {
      clock += 20;
      expect(policer.admitFrame(20)).toBe(true);
    }
    clock += 5_000; // nothing for 5 s, then the 250 frames of those 5 s at once
    for (let i = 0; i < 250; i++) expect(policer.admitFrame(20)).toBe(true);
    expect(policer.droppedMs).toBe(0);
    expect(policer.violations).toBe(0);
  });

  it('lets a burst run BURST_ALLOWANCE_MS ahead of the clock, then drops and counts', () => {
    const policer = new CallerAudioPolicer(now);
    let forwarded = 0;
    for (let i = 0; i < 6_000; i++) if (policer.admitFrame(20)) forwarded += 20;
    expect(forwarded).toBe(BURST_ALLOWANCE_MS);
    expect(policer.droppedMs).toBe(120_000 - BURST_ALLOWANCE_MS);
    expect(policer.exhausted).toBe(true);
    // A second later, a second more is allowed.
    clock += 1_000;
    let next = 0;
    for (let i = 0; i < 100; i++) if (policer.admitFrame(20)) next += 20;
    expect(next).toBe(1_000);
  });

  it('fills a hole with at most the time since the frame before it, plus GAP_JITTER_MS', () => {
    const policer = new CallerAudioPolicer(now);
    clock += 20;
    policer.admitFrame(20);
    clock += 1_200;
    expect(policer.silence(1_180, 'hole')).toBe(1_180); // a real pause: all of it
    policer.admitFrame(20);
    clock += 20;
    expect(policer.silence(9_980, 'hole')).toBe(20 + GAP_JITTER_MS); // 10 s claimed 20 ms later
    expect(policer.refusedSilenceMs).toBe(9_980 - 20 - GAP_JITTER_MS);
    expect(policer.violations).toBe(1);
  });

  it('never makes silence further than GAP_JITTER_MS ahead of the clock, however the holes are spread', () => {
    const policer = new CallerAudioPolicer(now);
    clock += 60_000; // a call a minute old whose stream sent nothing yet: the clock owes it a minute
    let made = 0;
    for (let i = 0; i < 2_000; i++) {
      made += policer.silence(9_980, 'hole');
      policer.admitFrame(20);
      clock += 20;
    }
    const elapsed = 60_000 + 2_000 * 20;
    expect(made + 2_000 * 20 - policer.droppedMs).toBeLessThanOrEqual(elapsed + GAP_JITTER_MS);
    expect(policer.exhausted).toBe(true);
  });

  it('idle silence is the clock\'s own: never a violation', () => {
    const policer = new CallerAudioPolicer(now);
    policer.admitFrame(20);
    clock += 800;
    expect(policer.silence(780, 'idle')).toBe(780);
    clock += 100;
    // Asked for more than the clock allows (a caller's bug, not the stream's): the clock's share, GAP_JITTER_MS ahead.
    expect(policer.silence(5_000, 'idle')).toBe(100 + GAP_JITTER_MS);
    expect(policer.violations).toBe(0);
    expect(policer.refusedSilenceMs).toBe(0);
  });
});

describe('CallerTimeline policed by the clock', () => {
  let silenceMs = 0;
  /** Silence sent per synchronous call, ms: none may be a burst. */
  let largestSilenceMs = 0;
  let timeline: CallerTimeline;
  /** The fake clock moves as the fake timers fire, so the idle check sees each moment. */
  const clock = () => Date.now();
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    silenceMs = 0;
    largestSilenceMs = 0;
    timeline = new CallerTimeline((frames) => {
      silenceMs += frames * 20;
      largestSilenceMs = Math.max(largestSilenceMs, frames * 20);
    }, clock);
  });
  afterEach(() => {
    timeline.dispose();
    vi.useRealTimers();
  });
  const advance = (ms: number) => vi.advanceTimersByTime(ms);

  it('20 minutes of a real line: uneven delivery, pauses without frames; every frame forwarded, every pause filled once', () => {
    const random = seededRandom(23);
    let timestamp = 0;
    let sendAt = 0;
    let arrival = 0;
    let pausesMs = 0;
    let forwarded = 0;
    let frames = 0;
    while (timestamp < 20 * 60_000) {
      if (timestamp > 0) {
        // A pause of 0.2-3 s that the phone leg leaves out.
        const pause = 200 + Math.floor((random() * 2_800) / 20) * 20;
        timestamp += pause;
        sendAt += pause;
        pausesMs += pause;
      }
      // Then 2-10 s of frames.
      for (let end = timestamp + 2_000 + Math.floor(random() * 8_000); timestamp < end; timestamp += 20, sendAt += 20) {
        // Network delay 10-160 ms, a 600 ms spike now and then; TCP keeps the order.
        const delay = 10 + Math.floor(random() * 150) + (random() < 0.01 ? 600 : 0);
        arrival = Math.max(arrival, sendAt + delay);
        advance(arrival - clock());
        if (timeline.frame(timestamp, 20)) forwarded++;
        frames++;
      }
    }
    expect(forwarded).toBe(frames);
    expect(timeline.policed).toEqual({ droppedMs: 0, refusedSilenceMs: 0, violations: 0 });
    // Silence sent early for a late frame is taken off the next pause: no drift over the call.
    expect(Math.abs(timeline.filledMs - pausesMs)).toBeLessThanOrEqual(200);
    // At most a pause too short for the idle filling, and the delay spike before the frame after it.
    expect(largestSilenceMs).toBeLessThanOrEqual(INACTIVITY_MS + 600);
  });

  it('timestamps stepping 10 s, frames as fast as they come: silence bounded by the clock, then hung up', () => {
    let frames = 0;
    while (!timeline.violating && frames < 2_000) timeline.frame(frames++ * 10_000, 20);
    expect(frames).toBeLessThanOrEqual(MAX_VIOLATIONS + 1);
    expect(silenceMs).toBeLessThanOrEqual(GAP_JITTER_MS);
    expect(timeline.policed.refusedSilenceMs).toBeGreaterThan(MAX_VIOLATIONS * 9_000);
  });

  it('timestamps stepping 10 s at 20 ms a frame: at most the clock, made a little at a time', () => {
    for (let i = 0; i < 40 && !timeline.violating; i++) {
      timeline.frame(i * 10_000, 20);
      advance(20);
    }
    expect(silenceMs).toBeLessThanOrEqual(clock() + GAP_JITTER_MS);
    expect(largestSilenceMs).toBeLessThanOrEqual(GAP_JITTER_MS + 20);
  });

  it('120 s of audio in a burst: BURST_ALLOWANCE_MS of it forwarded, the rest dropped, then hung up', () => {
    let forwarded = 0;
    let sent = 0;
    while (!timeline.violating && sent < 6_000) if (timeline.frame(sent++ * 20, 20)) forwarded += 20;
    expect(forwarded).toBe(BURST_ALLOWANCE_MS);
    expect(timeline.policed.droppedMs).toBe(MAX_VIOLATIONS * 20);
    expect(silenceMs).toBe(0);
  });

  it('idle filling stays within MAX_FILL_MS and the clock', () => {
    timeline.frame(0, 20);
    advance(MAX_FILL_MS + 5_000);
    expect(silenceMs).toBeLessThanOrEqual(MAX_FILL_MS);
    expect(timeline.violating).toBe(false);
  });
});
