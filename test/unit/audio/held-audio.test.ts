import { describe, expect, it } from 'vitest';
import { HeldAudio, MAX_HELD_AUDIO_BYTES, MAX_HELD_AUDIO_MS, MAX_SEND_CHUNK_BYTES } from '../../../src/audio/held-audio.js';

/** `ms` of 16 kHz PCM16, every byte `value`. */
const chunk = (ms: number, value = 0): Uint8Array => new Uint8Array(ms * 32).fill(value);

/** What `sendUnsent` offers: audio bytes copied (the pieces are views into the ring), activity marks as names. */
function sendAll(held: HeldAudio): { sent: Array<number | string>; done: boolean } {
  const sent: Array<number | string> = [];
  const done = held.sendUnsent({
    sendAudio: (audio) => sent.push(...audio) >= 0,
    sendActivity: (activity) => sent.push(activity) >= 0,
  });
  return { sent, done };
}

describe('HeldAudio', () => {
  it('sends what no session has had, in order, and keeps it until a handle covers it', () => {
    const held = new HeldAudio();
    held.append(chunk(20, 1));
    held.append(chunk(40, 2));
    expect(held.unsentMs).toBe(60);
    const first = sendAll(held);
    expect(first.done).toBe(true);
    expect(first.sent).toEqual([...chunk(20, 1), ...chunk(40, 2)]);
    expect(held.unsentMs).toBe(0);
    expect(held.sentMs).toBe(60);
    expect(sendAll(held).sent).toEqual([]); // nothing is sent twice

    held.append(chunk(20, 3));
    held.forgetSent(); // a handle: the first 60 ms are no longer needed, the unsent 20 ms are
    expect(held.sentMs).toBe(0);
    expect(held.unsentMs).toBe(20);
    expect(sendAll(held).sent).toEqual([...chunk(20, 3)]);
  });

  it('sends everything since the handle again to a resumed session, then what arrived meanwhile', () => {
    const held = new HeldAudio();
    held.append(chunk(20, 1));
    sendAll(held);
    held.append(chunk(20, 2)); // arrived while switching
    held.markAllUnsent();
    expect(held.unsentMs).toBe(40);
    expect(sendAll(held).sent).toEqual([...chunk(20, 1), ...chunk(20, 2)]);
  });

  it('keeps what a session refused for the next one, and offers a long replay in bounded pieces', () => {
    const held = new HeldAudio();
    for (let i = 0; i < 50; i++) held.append(chunk(20, i));
    const pieces: number[] = [];
    expect(held.sendUnsent({ sendAudio: (audio) => pieces.push(audio.length) < 3, sendActivity: () => true })).toBe(false);
    expect(pieces.every((size) => size <= MAX_SEND_CHUNK_BYTES)).toBe(true);
    expect(held.sentMs).toBe((2 * MAX_SEND_CHUNK_BYTES) / 32);
    const rest = sendAll(held);
    expect(rest.done).toBe(true);
    expect(rest.sent.length).toBe(50 * 640 - 2 * MAX_SEND_CHUNK_BYTES);
  });

  it('keeps at most MAX_HELD_AUDIO_MS, whatever size the chunks come in: the oldest go first, sent before unsent', () => {
    const held = new HeldAudio();
    for (let i = 0; i < 1_000; i++) held.append(chunk(20, i % 251));
    sendAll(held);
    for (let i = 1_000; i < 2_000; i++) held.append(chunk(20, i % 251));
    expect(held.byteLength).toBe(MAX_HELD_AUDIO_BYTES);
    expect(held.sentMs + held.unsentMs).toBe(MAX_HELD_AUDIO_MS);
    expect(held.unsentMs).toBe(20_000);
    // Huge chunks (a peer's 2 s frames, even one over the cap) are held to the same bytes; the newest stay.
    for (let i = 0; i < 20; i++) held.append(chunk(2_000, i));
    held.append(chunk(MAX_HELD_AUDIO_MS + 1_000, 99));
    expect(held.byteLength).toBe(MAX_HELD_AUDIO_BYTES);
    held.append(chunk(20, 100));
    held.markAllUnsent();
    const all = sendAll(held).sent;
    expect(all.length).toBe(MAX_HELD_AUDIO_BYTES);
    expect(all.at(-1)).toBe(100);
    expect(all[0]).toBe(99);
  });

  it('keeps the order across blocks while the oldest go back to the pool and come round again', () => {
    const held = new HeldAudio(64 * 1024 + 640 * 3);
    let unsent: number[] = [];
    let sinceHandle: number[] = [];
    for (let i = 0; i < 500; i++) {
      const frame = [...chunk(20, i % 256)];
      held.append(Uint8Array.from(frame));
      unsent.push(...frame);
      if (i % 7 === 0) {
        expect(sendAll(held).sent).toEqual(unsent);
        sinceHandle.push(...unsent);
        unsent = [];
      }
      if (i % 7 === 3) {
        held.forgetSent(); // a handle while some audio is unsent: whole blocks before it are freed
        sinceHandle = [];
      }
    }
    held.markAllUnsent();
    expect(sendAll(held).sent).toEqual([...sinceHandle, ...unsent]);
  });

  it('keeps activity marks in their places, sent once, sent again to a resumed session, and dropped with their audio', () => {
    const held = new HeldAudio();
    held.append(chunk(20, 1));
    held.appendActivity('start');
    held.append(chunk(20, 2));
    expect(sendAll(held).sent).toEqual([...chunk(20, 1), 'start', ...chunk(20, 2)]);
    held.appendActivity('end');
    expect(held.sentMs).toBe(40);
    expect(held.unsentMs).toBe(0); // marks take no time
    // A session that refuses the mark gets it again next time, before any later audio.
    expect(held.sendUnsent({ sendAudio: () => true, sendActivity: () => false })).toBe(false);
    held.append(chunk(20, 3));
    expect(sendAll(held).sent).toEqual(['end', ...chunk(20, 3)]);
    held.markAllUnsent();
    expect(sendAll(held).sent).toEqual([...chunk(20, 1), 'start', ...chunk(20, 2), 'end', ...chunk(20, 3)]);
    held.appendActivity('start');
    held.forgetSent(); // the unsent mark at the very end stays
    expect(sendAll(held).sent).toEqual(['start']);
  });
});
