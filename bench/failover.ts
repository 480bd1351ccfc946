/**
 * What a caller hears when the instance carrying the call dies: two real instances behind the committed HAProxy
 * configuration with a real Redis (test/support/fleet.ts), the fake Twilio call (test/fakes/twilio/call.ts) and the
 * fake Gemini Live server. Each run: the caller talks, the agent answers, and halfway through the answer the instance
 * is killed (kill -9). Twilio notices the stream is gone and requests the `<Connect action>`; the other instance
 * gives the call a new stream that resumes the model session; the caller, hearing silence, speaks again and is
 * answered. All times are on the fake Twilio call's clock.
 *
 * - killToStreamLostMs: kill → Twilio's side of the stream closes (the proxy passes the dead connection on);
 * - killToActionMs: kill → the `<Connect action>` request;
 * - killToNewStreamMs: kill → the new stream's `start`;
 * - silenceMs: the last agent audio heard on the dead stream → the first agent audio on the new stream (what the
 *   caller hears: nothing); it includes the caller's repeated utterance and the model's answer to it;
 * - responseMs / baselineResponseMs: end of the caller's speech → first agent audio, on the new stream and on the
 *   first one (the resumed session answers as fast as the first).
 */
import { performance } from 'node:perf_hooks';
import { FakeTwilioCall } from '../test/fakes/twilio/call.js';
import { loadSpeechFixture, speechFixtureManifest } from '../test/fakes/twilio/fixtures.js';
import { TEST_AUTH_TOKEN } from '../test/fakes/twilio/ids.js';
import type { FakeTwilioMediaStream } from '../test/fakes/twilio/media-stream.js';
import { FLEET_PUBLIC_URL, startFleet, type Fleet } from '../test/support/fleet.js';
import { median, round } from './stats.js';

export interface FailoverRun {
  killToStreamLostMs: number;
  killToActionMs: number;
  killToNewStreamMs: number;
  silenceMs: number;
  responseMs: number;
  baselineResponseMs: number;
  /** The new stream's model session resumed the first one's (no second greeting). */
  resumed: boolean;
}

export interface MedianMax {
  median: number;
  max: number;
}

export interface FailoverResult {
  runs: number;
  killToStreamLostMs: MedianMax;
  killToActionMs: MedianMax;
  killToNewStreamMs: MedianMax;
  silenceMs: MedianMax;
  responseMs: MedianMax;
  baselineResponseMs: MedianMax;
  /** Runs whose new session resumed from the stored handle. */
  resumedRuns: number;
  /** How long the caller's utterance on the new stream lasts (part of silenceMs). */
  callerUtteranceMs: number;
  perRun: FailoverRun[];
}

export interface FailoverOptions {
  runs: number;
  onProgress?: (line: string) => void;
}

const UTTERANCE = 'short-hello';
const IDS = ['agent-1', 'agent-2'];

export async function measureFailover({ runs, onProgress }: FailoverOptions): Promise<FailoverResult> {
  const fleet = await startFleet();
  const perRun: FailoverRun[] = [];
  try {
    await warmUp(fleet);
    for (let i = 0; i < runs; i++) {
      const run = await oneFailover(fleet);
      perRun.push(run);
      onProgress?.(`failover ${i + 1}/${runs}: new stream ${run.killToNewStreamMs.toFixed(0)} ms after the kill, silence ${run.silenceMs.toFixed(0)} ms`);
    }
  } finally {
    await fleet.close();
  }
  const pick = (f: (r: FailoverRun) => number): MedianMax => ({ median: round(median(perRun.map(f)), 1), max: round(Math.max(...perRun.map(f)), 1) });
  return {
    runs,
    killToStreamLostMs: pick((r) => r.killToStreamLostMs),
    killToActionMs: pick((r) => r.killToActionMs),
    killToNewStreamMs: pick((r) => r.killToNewStreamMs),
    silenceMs: pick((r) => r.silenceMs),
    responseMs: pick((r) => r.responseMs),
    baselineResponseMs: pick((r) => r.baselineResponseMs),
    resumedRuns: perRun.filter((r) => r.resumed).length,
    callerUtteranceMs: speechFixtureManifest()[UTTERANCE].durationMs,
    perRun,
  };
}

async function warmUp(fleet: Fleet): Promise<void> {
  for (let i = 0; i < IDS.length; i++) {
    const call = await dial(fleet);
    await call.stream!.waitForAgentAudio({ timeoutMs: 10_000 });
    await call.stream!.waitForPlayoutIdle(10_000);
    await call.hangUp();
  }
}

function dial(fleet: Fleet, onStream?: (stream: FakeTwilioMediaStream, number: number) => void): Promise<FakeTwilioCall> {
  return FakeTwilioCall.dial({
    serverUrl: fleet.proxy.url,
    publicUrl: FLEET_PUBLIC_URL,
    authToken: TEST_AUTH_TOKEN,
    restApi: fleet.rest,
    ...(onStream === undefined ? {} : { onStream: (stream, info) => onStream(stream, info.number) }),
  });
}

const agentBytes = (stream: FakeTwilioMediaStream): number => stream.receivedMedia.reduce((total, m) => total + m.bytes.length, 0);

/** The caller speaks; resolves with (end of speech, first agent audio after it), on the stream's clock. */
async function callerTurn(stream: FakeTwilioMediaStream, played?: () => Promise<{ lastFrameAtMs?: number }>): Promise<{ speechEndMs: number; answerMs: number }> {
  const before = agentBytes(stream);
  const playback = await (played === undefined ? stream.playCallerAudio(loadSpeechFixture(UTTERANCE)) : played());
  await stream.waitFor((s) => agentBytes(s) > before, 10_000, 'the answer');
  let total = 0;
  const answer = stream.receivedMedia.find((m) => (total += m.bytes.length) > before)!;
  return { speechEndMs: (playback.lastFrameAtMs ?? 0) + 20, answerMs: answer.atMs };
}

async function oneFailover(fleet: Fleet): Promise<FailoverRun> {
  const sessionIndex = fleet.gemini.sessions.length;
  let secondPlayback: Promise<{ lastFrameAtMs?: number }> | undefined;
  // On the new stream the caller, who heard the agent stop, speaks again at once.
  const call = await dial(fleet, (stream, number) => {
    if (number === 2) secondPlayback = stream.playCallerAudio(loadSpeechFixture(UTTERANCE));
  });
  const first = call.stream!;
  const dead = new URL(call.streams[0]!.twiml.streamUrl).pathname.split('/')[2]!;
  await first.waitForAgentAudio({ timeoutMs: 10_000 });
  await first.waitForPlayoutIdle(10_000);
  const baseline = await callerTurn(first);
  const session = await fleet.gemini.waitForSession(sessionIndex, 10_000);
  // Halfway through the answer (about 1 s of speech): the agent is talking when its instance dies.
  const heardBytes = (): number => first.heardTimeline.reduce((t, c) => t + c.bytes.length, 0);
  const heardBefore = heardBytes();
  await first.waitFor(() => heardBytes() - heardBefore >= 4_000, 10_000, 'half a second of the answer heard');
  const killAt = call.now();
  await fleet.kill(dead);
  const killedAt = call.now();
  const killMs = (killAt + killedAt) / 2;
  try {
    const second = await call.waitForStream(2, 20_000);
    const turn = await callerTurn(second, async () => await (await waitFor(() => secondPlayback)));
    const lastHeard = first.heardTimeline.at(-1);
    const lastHeardEnd = lastHeard === undefined ? call.callMs(first, first.closeInfo!.atMs) : call.callMs(first, lastHeard.atMs + lastHeard.bytes.length / 8);
    const resumed = fleet.gemini.sessions.some((s) => s.index > sessionIndex && s.resumedFrom?.sessionIndex === session.index);
    const run: FailoverRun = {
      killToStreamLostMs: round(call.callMs(first, first.closeInfo!.atMs) - killMs, 1),
      killToActionMs: round(call.actionRequests[0]!.atMs - killMs, 1),
      killToNewStreamMs: round(call.callMs(second, second.streamStartedAtMs!) - killMs, 1),
      silenceMs: round(call.callMs(second, turn.answerMs) - lastHeardEnd, 1),
      responseMs: round(turn.answerMs - turn.speechEndMs, 1),
      baselineResponseMs: round(baseline.answerMs - baseline.speechEndMs, 1),
      resumed,
    };
    await call.hangUp();
    return run;
  } finally {
    await call.hangUp();
    await fleet.restart(dead);
    await proxyServesBoth(fleet);
  }
}

function waitFor<T>(value: () => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const check = (): void => {
      const found = value();
      if (found !== undefined) resolve(found);
      else setTimeout(check, 5);
    };
    check();
  });
}

/** HAProxy takes a restarted instance back after two good health checks (inter 1 s, rise 2). */
async function proxyServesBoth(fleet: Fleet): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < 2_500) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const id of IDS) await fleet.waitReady(id);
}
