import { describe, expect, it } from 'vitest';
import { HeardAgentAudio } from '../../../src/recording/heard-agent-audio.js';
import { MAX_UNCONFIRMED_AGENT_MS } from '../../../src/telephony/media-stream-connection.js';
import { MulawTimeline } from '../../../src/recording/mulaw-timeline.js';

const FRAME_BYTES = 160; // 20 ms
const SILENCE = 0xff;
const ONE_HOUR_SAMPLES = 3_600 * 8_000;

/** A 20 ms frame whose every byte is `value`, so where it landed can be read back. */
const frame = (value: number) => new Uint8Array(FRAME_BYTES).fill(value);

/** The byte values of the timeline, one per ms (8 samples each must agree), from 0 to `ms`. */
function perMs(timeline: MulawTimeline, ms: number): number[] {
  const bytes = new Uint8Array(ms * 8);
  timeline.read(0, bytes);
  const values: number[] = [];
  for (let i = 0; i < ms; i++) {
    const slice = bytes.subarray(i * 8, i * 8 + 8);
    expect(new Set(slice).size, `ms ${i} mixes two frames`).toBe(1);
    values.push(slice[0]!);
  }
  return values;
}

/** Sends `count` frames valued first, first+1, … for `turn` at `atMs`, then a mark. */
function sendBatch(audio: HeardAgentAudio, mark: string, first: number, count: number, turn: number, atMs: number): void {
  for (let i = 0; i < count; i++) audio.sent(frame(first + i), turn, atMs);
  audio.mark(mark);
}

describe('HeardAgentAudio', () => {
  it('places a batch where its mark echo says it ended, and learns how late Twilio plays', () => {
    const timeline = new MulawTimeline(ONE_HOUR_SAMPLES);
    const audio = new HeardAgentAudio(timeline);
    sendBatch(audio, 'm1', 1, 10, 1, 100); // 200 ms sent at 100 ms
    audio.markEchoed('m1', 350); // Twilio finished it at 350: it started 50 ms after we sent it
    expect(audio.playoutLagMs).toBe(50);
    const values = perMs(timeline, 400);
    expect(values.slice(0, 150).every((v) => v === SILENCE)).toBe(true);
    expect(values[150]).toBe(1);
    expect(values[349]).toBe(10);
    expect(values.slice(350).every((v) => v === SILENCE)).toBe(true);
    expect(audio.turnAudio(1)).toEqual({ sentMs: 200, heardMs: 200, firstHeardAtMs: 150 });

    // After an idle stretch, the next turn is expected at its send time plus that lag.
    sendBatch(audio, 'm2', 20, 5, 2, 1_000);
    audio.markEchoed('m2', 1_150);
    expect(perMs(timeline, 1_200)[1_050]).toBe(20);
    expect(audio.turnAudio(2).firstHeardAtMs).toBe(1_050);
  });

  it('keeps batches queued behind playing audio back to back, whatever the echo jitter', () => {
    const timeline = new MulawTimeline(ONE_HOUR_SAMPLES);
    const audio = new HeardAgentAudio(timeline);
    sendBatch(audio, 'm1', 1, 10, 1, 0);
    sendBatch(audio, 'm2', 11, 10, 1, 50); // arrives while m1 plays: queued
    audio.markEchoed('m1', 200);
    audio.markEchoed('m2', 407); // 7 ms late: jitter, not a gap
    const values = perMs(timeline, 420);
    expect(values.slice(0, 400)).toEqual(Array.from({ length: 400 }, (_, ms) => 1 + Math.floor(ms / 20)));
    expect(values[400]).toBe(SILENCE);
  });

  it('leaves a gap when a queued batch is confirmed over a frame late (Twilio ran dry)', () => {
    const timeline = new MulawTimeline(ONE_HOUR_SAMPLES);
    const audio = new HeardAgentAudio(timeline);
    sendBatch(audio, 'm1', 1, 10, 1, 0);
    sendBatch(audio, 'm2', 11, 10, 1, 150);
    audio.markEchoed('m1', 200);
    audio.markEchoed('m2', 480); // ended at 480, so it started at 280: 80 ms of silence after m1
    const values = perMs(timeline, 500);
    expect(values[199]).toBe(10);
    expect(values.slice(200, 280).every((v) => v === SILENCE)).toBe(true);
    expect(values[280]).toBe(11);
  });

  it('barge-in: keeps what played before the clear and none of what was cleared', () => {
    const timeline = new MulawTimeline(ONE_HOUR_SAMPLES);
    const audio = new HeardAgentAudio(timeline);
    // A 600 ms reply arrives faster than real time, in three batches.
    sendBatch(audio, 'm1', 1, 10, 1, 0);
    sendBatch(audio, 'm2', 11, 10, 1, 5);
    sendBatch(audio, 'm3', 21, 10, 1, 10);
    audio.markEchoed('m1', 200);
    const { droppedMs } = audio.cleared(330); // the caller talks over the agent 130 ms into m2
    expect(droppedMs).toBe(270);
    // Twilio echoes the cleared marks at once; they say nothing about playout.
    audio.markEchoed('m2', 331);
    audio.markEchoed('m3', 331);
    expect(audio.turnAudio(1)).toEqual({ sentMs: 600, heardMs: 330, firstHeardAtMs: 0 });

    // The next turn starts after the cut, and nothing of the cleared audio shows up later either.
    sendBatch(audio, 'n1', 100, 5, 2, 900);
    audio.markEchoed('n1', 1_000);
    const values = perMs(timeline, 1_100);
    expect(values.slice(0, 330)).toEqual(Array.from({ length: 330 }, (_, ms) => 1 + Math.floor(ms / 20)));
    expect(values.slice(330, 900).every((v) => v === SILENCE)).toBe(true);
    expect(values.slice(900, 1_000)).toEqual(Array.from({ length: 100 }, (_, ms) => 100 + Math.floor(ms / 20)));
    expect(values.some((v) => v >= 21 && v <= 30)).toBe(false);
  });

  it('at the end of the call keeps only what had played by then', () => {
    const timeline = new MulawTimeline(ONE_HOUR_SAMPLES);
    const audio = new HeardAgentAudio(timeline);
    sendBatch(audio, 'm1', 1, 10, 1, 0);
    audio.finish(105); // hung up 105 ms into the reply, before any echo
    expect(audio.turnAudio(1).heardMs).toBe(105);
    expect(timeline.lengthSamples).toBe(105 * 8);
  });

  it('stays bounded when marks never come back', () => {
    const timeline = new MulawTimeline(ONE_HOUR_SAMPLES);
    const audio = new HeardAgentAudio(timeline);
    const frames = (MAX_UNCONFIRMED_AGENT_MS / 20) * 2;
    for (let i = 0; i < frames; i++) {
      audio.sent(frame(0x40), 1, i * 20);
      audio.mark(`m${i}`);
    }
    audio.markEchoed('m0', frames * 20); // a long-lost echo: its audio was placed already, so it changes nothing
    // Half was assumed played (at its estimated place), the newest half is still waiting for a mark.
    expect(timeline.lengthSamples).toBe((frames / 2) * FRAME_BYTES);
    expect(audio.turnAudio(1).heardMs).toBe(MAX_UNCONFIRMED_AGENT_MS);
  });
});
