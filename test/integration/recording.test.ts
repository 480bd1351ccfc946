import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulawDecodeSample } from '../../src/audio/mulaw.js';
import { findRecording } from '../../src/recording/call-recordings.js';
import { parseRecordingLog, type RecordingLog } from '../../src/recording/recording-format.js';
import { readPcm16Wav, wavChannel } from '../../src/recording/wav.js';
import { loadSpeechFixture, type FakeTwilioMediaStream } from '../fakes/twilio/index.js';
import { restaurantGreetingCue, startBridge, type Bridge } from '../support/bridge-harness.js';

const FRAME_SAMPLES = 160; // 20 ms at 8 kHz
const GREETING = 'Blue Door, how can I help?';
const LONG_ANSWER =
  'Let me look that up for you. We have tables on Friday from five until nine in the evening, and the patio is open when the weather is good.';
const SHORT_ANSWER = 'Of course, what time would you like instead?';
const CALLER_QUESTION = 'Hello?';
const CALLER_BARGE_IN = 'Wait, I need to change the time.';

const decode = (bytes: Uint8Array) => Int16Array.from(bytes, (code) => mulawDecodeSample(code));

/** The offset nearest 0, within ±1 frame of `position`, where `channel` holds the first `compareSamples` of `expected`. */
/**
 * Where `expected` sits in `channel` near `position`, searching `maxOffset` samples either way. The fake Twilio
 * times its playout on its own real-time clock and the recorder from mark echoes on the server's: on a loaded
 * 2-core machine the two drift by a few ms per chunk, so single chunks are found within three frames and the
 * median offset is held to one frame (below).
 */
function offsetOf(channel: Int16Array, expected: Int16Array, position: number, compareSamples = expected.length, maxOffset = FRAME_SAMPLES): number | undefined {
  for (let distance = 0; distance <= 2 * maxOffset; distance++) {
    const offset = distance % 2 === 0 ? distance / 2 : -(distance + 1) / 2;
    const start = position + offset;
    if (start < 0 || start + compareSamples > channel.length) continue;
    let same = true;
    for (let i = 0; i < compareSamples && same; i++) same = channel[start + i] === expected[i];
    if (same) return offset;
  }
  return undefined;
}

describe('call recording (RECORD_CALLS=1) through the running server', () => {
  let bridge: Bridge;
  let twilio: FakeTwilioMediaStream;
  let callSid: string;
  let log: RecordingLog;
  let left: Int16Array;
  let right: Int16Array;

  beforeAll(async () => {
    bridge = await startBridge({
      env: { RECORD_CALLS: '1' },
      gemini: {
        replies: ({ source, heardText, turnIndex }) => {
          if (source === 'text' && heardText === restaurantGreetingCue()) return { text: GREETING };
          if (source === 'audio' && turnIndex === 1) return { text: LONG_ANSWER, heard: CALLER_QUESTION };
          if (source === 'audio') return { text: SHORT_ANSWER, heard: CALLER_BARGE_IN };
          return undefined;
        },
      },
    });
    ({ callSid, twilio } = await bridge.placeCall());
    const session = await bridge.gemini.waitForSession(0);
    await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);

    // The caller asks; a second into the long answer they talk over it; the agent answers that.
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    const heardBefore = twilio.heardAudio.length;
    await twilio.waitFor((t) => t.heardAudio.length >= heardBefore + 8_000, 10_000, 'a second of the answer');
    await twilio.playCallerAudio(loadSpeechFixture('barge-in'));
    await session.waitUntil((s) => s.modelTurns[2]?.outcome === 'completed', 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.playSilence(300);
    await twilio.hangUp();

    const saved = await bridge.waitForLog((line) => line.msg === 'call recording saved' && line.callSid === callSid, 10_000);
    const paths = await findRecording(bridge.config.recording.dir, callSid);
    expect(paths).toMatchObject({ wav: saved.wav, json: saved.json });
    log = parseRecordingLog(JSON.parse(readFileSync(paths!.json, 'utf8')));
    const wav = readPcm16Wav(readFileSync(paths!.wav));
    expect(wav).toMatchObject({ sampleRateHz: 8_000, channels: 2 });
    left = wavChannel(wav, 0);
    right = wavChannel(wav, 1);
  }, 60_000);
  afterAll(async () => bridge?.stop());

  it('the left channel is exactly what the caller sent, at its media timestamps', () => {
    const media = twilio.sent.flatMap(({ message }) => (message.event === 'media' ? [message.media] : []));
    expect(media.length).toBeGreaterThan(500);
    for (const { timestamp, payload } of media) {
      const position = Number(timestamp) * 8;
      const sent = decode(Buffer.from(payload, 'base64'));
      expect(offsetOf(left, sent, position), `caller frame at ${timestamp} ms`).toBe(0);
    }
  });

  it('the right channel is what the fake Twilio played, where it played it (within a frame), and nothing it cleared', () => {
    const streamStart = twilio.streamStartedAtMs!;
    const clearsAt = twilio.clears.map((clear) => clear.atMs);
    expect(clearsAt).toHaveLength(1);
    const offsets: number[] = [];
    for (const chunk of twilio.heardTimeline) {
      const played = decode(chunk.bytes);
      // The recording estimates where Twilio stopped at a clear, within a frame: what played in the last
      // 20 ms before a clear may be missing from it.
      const nextClear = clearsAt.find((atMs) => atMs >= chunk.atMs);
      const compare = nextClear === undefined ? played.length : Math.min(played.length, Math.max(0, Math.floor((nextClear - 20 - chunk.atMs) * 8)));
      if (compare === 0) continue;
      const offset = offsetOf(right, played, Math.round((chunk.atMs - streamStart) * 8), compare, 3 * FRAME_SAMPLES);
      expect(offset, `agent audio heard at ${(chunk.atMs - streamStart).toFixed(1)} ms`).toBeDefined();
      offsets.push(offset!);
    }
    expect(offsets.length).toBeGreaterThan(100);
    const sorted = [...offsets].sort((a, b) => a - b);
    expect(Math.abs(sorted[Math.floor(sorted.length / 2)]!), 'median placement error (samples)').toBeLessThanOrEqual(FRAME_SAMPLES);

    // As much as was heard, give or take a frame at the cut: the cleared rest of the answer is not there.
    const heardSamples = twilio.heardAudio.length;
    const recordedHeardMs = log.agentTurns.reduce((sum, turn) => sum + turn.heardMs, 0);
    expect(Math.abs(recordedHeardMs * 8 - heardSamples)).toBeLessThanOrEqual(FRAME_SAMPLES + 8);
    const nonSilent = right.reduce((count, sample) => count + (sample === 0 ? 0 : 1), 0);
    expect(nonSilent).toBeLessThanOrEqual(heardSamples + FRAME_SAMPLES);
    expect(twilio.clears[0]!.discardedBytes).toBeGreaterThan(8_000); // the clear threw away over a second of the answer
  });

  it('the event log tells the conversation: transcripts, the interruption, timings, the end', () => {
    const transcript = log.events.flatMap((event) => (event.type === 'transcript' ? [`${event.speaker}: ${event.text}${event.interrupted ? ' [interrupted]' : ''}`] : []));
    // The interrupted answer's transcript is what the model had sent when it was cut: the start of it.
    const cutAnswer = transcript[2]!.match(/^agent: (.+) \[interrupted\]$/)?.[1];
    expect(cutAnswer !== undefined && LONG_ANSWER.startsWith(cutAnswer)).toBe(true);
    expect(transcript).toEqual([`agent: ${GREETING}`, `caller: ${CALLER_QUESTION}`, transcript[2], `caller: ${CALLER_BARGE_IN}`, `agent: ${SHORT_ANSWER}`]);
    const interruptions = log.events.filter((event) => event.type === 'interrupted');
    expect(interruptions).toEqual([expect.objectContaining({ agentTurn: 2, heardMs: expect.any(Number), droppedMs: expect.any(Number) })]);
    const interrupted = interruptions[0] as { heardMs: number; sentMs: number };
    expect(interrupted.heardMs).toBeGreaterThanOrEqual(1_000);
    expect(interrupted.heardMs).toBeLessThan(interrupted.sentMs);

    expect(log.agentTurns.map((turn) => [turn.turn, turn.interrupted, turn.respondsTo])).toEqual([
      [1, false, undefined],
      [2, true, 'speech'],
      [3, false, 'speech'],
    ]);
    // The local Live server answers 500 ms of silence after speech (its VAD) plus 150 ms "thinking".
    for (const turn of log.agentTurns.slice(1)) {
      expect(turn.latencyMs).toBeGreaterThanOrEqual(500);
      expect(turn.latencyMs).toBeLessThan(2_000);
    }
    expect(log).toMatchObject({ callSid, endReason: 'caller-hung-up', from: '+1********23', to: '+1********99', audio: { truncated: false } });
    expect(log.events.at(-1)).toMatchObject({ type: 'callEnded', reason: 'caller-hung-up' });
    expect(JSON.stringify(log)).not.toMatch(/\+1\d{10}/);
  });
});

describe('without RECORD_CALLS', () => {
  it('records nothing', async () => {
    const bridge = await startBridge({ gemini: { replies: ({ source }) => (source === 'text' ? { text: GREETING } : undefined) } });
    try {
      const { callSid, twilio } = await bridge.placeCall();
      const session = await bridge.gemini.waitForSession(0);
      await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
      await twilio.hangUp();
      await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
      expect(bridge.config.recording.enabled).toBe(false);
      expect(existsSync(bridge.config.recording.dir)).toBe(false);
      expect(bridge.logs.some((line) => line.msg.includes('recording'))).toBe(false);
    } finally {
      await bridge.stop();
    }
  });
});
