import { describe, expect, it } from 'vitest';
import { ACTIVITY_END, ACTIVITY_START, HeldAudio, MAX_HELD_AUDIO_BYTES, MAX_HELD_AUDIO_MS, type HeldInput } from '../../../src/audio/held-audio.js';

/** `ms` of 16 kHz PCM16 in the Live API's wire form. */
const chunk = (ms: number, value = 0): string => Buffer.alloc(ms * 32, value).toString('base64');
const firstByte = (input: HeldInput): number | string => (typeof input === 'string' ? Buffer.from(input, 'base64')[0]! : input.activity);

describe('HeldAudio', () => {
  it('holds chunks in order and says how much audio they are', () => {
    const held = new HeldAudio();
    held.push(chunk(20, 1));
    held.push(chunk(20, 2));
    held.push(chunk(60, 3));
    expect(held.durationMs).toBe(100);
    const taken = held.takeAll();
    expect(taken.map(firstByte)).toEqual([1, 2, 3]);
    expect(held.durationMs).toBe(0);
    expect(held.byteLength).toBe(0);
  });

  it('keeps at most MAX_HELD_AUDIO_MS, whatever size the chunks come in: the oldest go first', () => {
    const held = new HeldAudio();
    for (let i = 0; i < 3_000; i++) held.push(chunk(20));
    // (base64 padding takes a little of the room)
    expect(held.durationMs).toBeLessThanOrEqual(MAX_HELD_AUDIO_MS);
    expect(held.durationMs).toBeGreaterThan(MAX_HELD_AUDIO_MS * 0.99);
    expect(held.byteLength).toBeLessThanOrEqual(MAX_HELD_AUDIO_BYTES);
    // Huge chunks (a peer's 2 s frames) are held to the same bytes.
    for (let i = 0; i < 100; i++) held.push(chunk(2_000, i));
    expect(held.byteLength).toBeLessThanOrEqual(MAX_HELD_AUDIO_BYTES);
    expect(held.durationMs).toBeLessThanOrEqual(MAX_HELD_AUDIO_MS);
    const newest = held.takeAll().map(firstByte);
    expect(newest.at(-1)).toBe(99);
    expect(newest[0]).toBe(100 - newest.length);
  });

  it('keeps activity marks in order with the audio, taking no room and no time', () => {
    const held = new HeldAudio();
    held.push(chunk(20, 1));
    held.push(ACTIVITY_START);
    held.push(chunk(20, 2));
    held.push(ACTIVITY_END);
    expect(held.durationMs).toBe(40);
    expect(held.takeAll().map(firstByte)).toEqual([1, 'start', 2, 'end']);
  });
});
