/**
 * The fleet (issue #12 requirement 9): two real instances (child processes, src/main.ts) behind a real HAProxy with
 * the committed deploy/haproxy/haproxy.cfg, sharing a real Redis; Twilio is the fake call (test/fakes/twilio/call.ts),
 * Gemini Live the fake Live server. Timing is read on the Twilio stream's own clock, with bounds only a broken
 * feature misses.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderHaproxyConfig } from '../../scripts/lib/haproxy-config.js';
import { mulawDecode } from '../../src/audio/mulaw.js';
import type { FakeSession } from '../fakes/gemini-live/server.js';
import { BUSY_MESSAGE } from '../../src/telephony/voice-webhook.js';
import { FakeTwilioCall, type FakeTwilioCallOptions } from '../fakes/twilio/call.js';
import { loadSpeechFixture } from '../fakes/twilio/fixtures.js';
import { TEST_AUTH_TOKEN } from '../fakes/twilio/ids.js';
import { FakeTwilioMediaStream } from '../fakes/twilio/media-stream.js';
import type { InboundMediaMessage } from '../fakes/twilio/protocol.js';
import { parseConnectStreamTwiml, readTwimlVerbs } from '../fakes/twilio/twiml.js';
import { defaultVoiceWebhookParams, postVoiceWebhook } from '../fakes/twilio/webhook.js';
import { FLEET_ANSWER, FLEET_GREETING, FLEET_PUBLIC_URL, metric, startFleet, type Fleet } from '../support/fleet.js';

type Stream = FakeTwilioMediaStream;
let fleet: Fleet;
const calls: FakeTwilioCall[] = [];
const IDS = ['agent-1', 'agent-2'] as const;
/**
 * Calls arrive 10 a second and stay up together (40 concurrent after 4 s). Twilio's media server connects a stream
 * some time after it runs the TwiML (DNS, TCP, TLS, its own set-up; "a second or so", src/call/early-conversations.ts):
 * the greeting prepared at the webhook is what makes the first audio instant.
 */
const ARRIVAL_INTERVAL_MS = 100;
const STREAM_CONNECT_DELAY_MS = 1_000;

beforeAll(async () => {
  fleet = await startFleet();
  // One call per instance first: a freshly started process compiles its call path on the first call (tsx, the SDK),
  // which is start-up cost, not what the timing checks below are about.
  for (let i = 0; i < 2; i++) {
    const call = await FakeTwilioCall.dial({ serverUrl: fleet.proxy.url, publicUrl: FLEET_PUBLIC_URL, authToken: TEST_AUTH_TOKEN });
    await call.stream?.waitForAgentAudio({ timeoutMs: 10_000 });
    await call.stream?.waitForPlayoutIdle(10_000);
    await call.hangUp();
  }
}, 60_000);

afterAll(async () => {
  await fleet?.close();
}, 30_000);

afterEach(async () => {
  await Promise.all(calls.splice(0).map((call) => call.hangUp()));
});

async function dial(serverUrl: string, options: Partial<FakeTwilioCallOptions> = {}): Promise<FakeTwilioCall> {
  const call = await FakeTwilioCall.dial({ serverUrl, publicUrl: FLEET_PUBLIC_URL, authToken: TEST_AUTH_TOKEN, restApi: fleet.rest, ...options });
  calls.push(call);
  return call;
}

/** The instance a stream URL names (/media/<id>). */
function namedInstance(streamUrl: string): string {
  return new URL(streamUrl).pathname.split('/')[2] ?? '';
}

async function counters(name: string, labels: Record<string, string> = {}): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const i of fleet.instances) {
    if (i.child.exitCode === null && i.child.signalCode === null) out[i.id] = metric(await fleet.metrics(i.id), name, labels);
  }
  return out;
}

const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0);

/** Milliseconds from the stream's `start` to its first agent audio, on the stream's own clock. */
async function greetingDelayMs(stream: Stream, timeoutMs = 10_000): Promise<number> {
  await stream.waitForAgentAudio({ timeoutMs });
  return stream.firstAgentAudioAtMs! - stream.streamStartedAtMs!;
}

function agentBytes(stream: Stream): number {
  return stream.receivedMedia.reduce((total, m) => total + m.bytes.length, 0);
}

/** The caller says something and the agent answers (at least 0.5 s of new agent audio). */
async function callerTurnAnswered(stream: Stream): Promise<void> {
  await stream.waitForPlayoutIdle(10_000);
  const before = agentBytes(stream);
  await stream.playCallerAudio(loadSpeechFixture('short-hello'));
  await stream.waitFor((s) => agentBytes(s) >= before + 4_000, 10_000, 'the answer to the caller');
}

/** Waits until the proxy's health checks route nothing to a not-ready instance: several /readyz in a row are 200. */
async function proxyServesOnlyReady(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let streak = 0;
  while (streak < 6) {
    if (Date.now() > deadline) throw new Error('the proxy kept routing to an instance that is not ready');
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    streak = ok ? streak + 1 : 0;
    if (!ok) await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** First 20 ms window (at `rate`) whose RMS reaches -40 dBFS: where speech starts on an audio timeline. */
function speechOnsetMs(samples: Int16Array, rate: number): number | undefined {
  const window = rate / 50;
  for (let start = 0; start + window <= samples.length; start += window) {
    let energy = 0;
    for (let i = start; i < start + window; i++) energy += (samples[i]! / 32768) ** 2;
    if (10 * Math.log10(energy / window + 1e-12) >= -40) return (start / rate) * 1000;
  }
  return undefined;
}

/** The caller audio a stream sent, decoded (8 kHz), in send order. */
function sentCallerAudio(stream: Stream): Int16Array {
  const payloads = stream.sent.filter((s) => s.message.event === 'media').map((s) => Buffer.from((s.message as InboundMediaMessage).media.payload, 'base64'));
  const mulaw = Buffer.concat(payloads);
  const pcm = new Int16Array(mulaw.length);
  mulawDecode(mulaw, pcm);
  return pcm;
}

describe('two instances behind HAProxy with Redis', () => {
  it('(a) answers 40 concurrent calls, webhooks round-robin, each greeting within 150 ms of its stream start (server clock; median on the Twilio stream clock), every stream an affinity hit', async () => {
    const hitsBefore = await counters('phone_agent_stream_affinity_total', { result: 'hit' });
    const missesBefore = await counters('phone_agent_stream_affinity_total', { result: 'miss' });
    const dialed = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * ARRIVAL_INTERVAL_MS));
        return dial(fleet.proxy.url, { streamConnectDelayMs: STREAM_CONNECT_DELAY_MS });
      }),
    );
    const delays = await Promise.all(dialed.map((call) => greetingDelayMs(call.stream!)));
    const answeredBy = dialed.map((call) => namedInstance(call.streams[0]!.twiml.streamUrl));
    await Promise.all(dialed.map((call) => call.stream!.waitForPlayoutIdle(10_000)));
    await Promise.all(dialed.map((call) => call.hangUp()));

    const hits = sum(await counters('phone_agent_stream_affinity_total', { result: 'hit' })) - sum(hitsBefore);
    const misses = sum(await counters('phone_agent_stream_affinity_total', { result: 'miss' })) - sum(missesBefore);
    const sorted = [...delays].sort((x, y) => x - y);
    console.log(`(a) 40 calls: greeting after stream start p50 ${sorted[20]!.toFixed(1)} ms, max ${sorted[39]!.toFixed(1)} ms; affinity ${hits} hits, ${misses} misses (hit rate ${((100 * hits) / (hits + misses)).toFixed(0)} %)`);
    expect(dialed.every((call) => call.streamCount === 1 && call.errors.length === 0)).toBe(true);
    expect(answeredBy.filter((id) => id === 'agent-1')).toHaveLength(20);
    expect(answeredBy.filter((id) => id === 'agent-2')).toHaveLength(20);
    // The server's own figure (stream start → first agent audio sent, in its call summary) for every call; on the
    // Twilio side (this process also runs 40 fake streams and the fake Gemini) the median, and a bound for every call
    // that a greeting not prepared at the webhook (session setup + the model's 150 ms thinking time) cannot meet.
    const callSids = new Set(dialed.map((call) => call.callSid));
    const summaries = () => fleet.instances.flatMap((i) => i.logs('call ended')).filter((line) => callSids.has(line['callSid'] as string));
    await expect.poll(() => summaries().length, { timeout: 5_000 }).toBe(40);
    const serverDelays = summaries().map((line) => line['streamStartToFirstAgentAudioMs'] as number);
    console.log(`(a) server side: stream start → first agent audio max ${Math.max(...serverDelays)} ms`);
    expect(serverDelays).toHaveLength(40);
    expect(Math.max(...serverDelays)).toBeLessThan(150);
    expect(sorted[20]!).toBeLessThan(150);
    expect(Math.max(...delays)).toBeLessThan(250);
    expect({ hits, misses }).toEqual({ hits: 40, misses: 0 });
    for (const call of dialed) expect((await call.ended).reason).toBe('caller-hung-up');
    expect(dialed.flatMap((call) => call.actionRequests)).toEqual([]);
  }, 60_000);

  it('(b) behind a proxy that ignores affinity, every call still succeeds and the misses are counted', async () => {
    const roundRobin = await fleet.startProxy(renderHaproxyConfig([...IDS]).replace(/^ {2}use-server .*\n/gm, ''));
    try {
      expect(roundRobin).toBeDefined();
      const missesBefore = await counters('phone_agent_stream_affinity_total', { result: 'miss' });
      const hitsBefore = await counters('phone_agent_stream_affinity_total', { result: 'hit' });
      for (let i = 0; i < 6; i++) {
        const call = await dial(roundRobin.url);
        await call.stream!.waitForAgentAudio({ timeoutMs: 10_000 });
        await call.stream!.waitForPlayoutIdle(10_000);
        await call.hangUp();
        expect(call.errors).toEqual([]);
      }
      const misses = sum(await counters('phone_agent_stream_affinity_total', { result: 'miss' })) - sum(missesBefore);
      const hits = sum(await counters('phone_agent_stream_affinity_total', { result: 'hit' })) - sum(hitsBefore);
      console.log(`(b) round-robin proxy, 6 calls: ${hits} hits, ${misses} misses`);
      expect(hits + misses).toBe(6);
      expect(misses).toBeGreaterThan(0);
    } finally {
      await roundRobin.close();
    }
  }, 60_000);

  it('(c) a token redeemed on one instance is refused on the other', async () => {
    for (const [answering, first, second] of [['agent-1', 'agent-1', 'agent-2'], ['agent-2', 'agent-1', 'agent-2']] as const) {
      const params = defaultVoiceWebhookParams();
      const answered = await postVoiceWebhook({ serverUrl: fleet.instance(answering).url, publicUrl: FLEET_PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params });
      const twiml = parseConnectStreamTwiml(answered.body);
      const open = (id: string) =>
        FakeTwilioMediaStream.connect({
          serverUrl: fleet.instance(id).url.replace('http', 'ws'),
          streamUrl: twiml.streamUrl,
          authToken: TEST_AUTH_TOKEN,
          callSid: params['CallSid']!,
          customParameters: twiml.parameters,
        });
      const redeemed = await open(first);
      await redeemed.waitForAgentAudio({ timeoutMs: 10_000 });
      const replayed = await open(second);
      const closed = await replayed.closed;
      expect(closed).toMatchObject({ code: 1008, initiatedBy: 'server' });
      expect(closed.reason).toContain('token');
      expect(replayed.receivedMedia).toEqual([]);
      expect(redeemed.isOpen).toBe(true);
      await redeemed.hangUp();
    }
  });

  it('(g) the same signed /voice 20 times, across both instances, opens one Gemini session and answers the same TwiML', async () => {
    const params = defaultVoiceWebhookParams();
    const sessionsBefore = fleet.gemini.sessions.length;
    const hitsBefore = sum(await counters('phone_agent_stream_affinity_total', { result: 'hit' }));
    // Twilio retries a webhook one request after another; the proxy sends them to both instances in turn.
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await postVoiceWebhook({ serverUrl: fleet.proxy.url, publicUrl: FLEET_PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params }));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const twimls = answers.map((a) => parseConnectStreamTwiml(a.body));
    expect(new Set(twimls.map((t) => t.parameters['streamToken'])).size).toBe(1);
    // Every answer names the instance holding the call's session, whichever instance gave it.
    expect(new Set(twimls.map((t) => t.streamUrl)).size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(fleet.gemini.sessions.length - sessionsBefore).toBe(1);

    const twiml = twimls.at(-1)!; // Twilio runs the TwiML of the attempt that succeeded: the last one
    const stream = await FakeTwilioMediaStream.connect({
      serverUrl: fleet.proxy.url.replace('http', 'ws'),
      streamUrl: twiml.streamUrl,
      authToken: TEST_AUTH_TOKEN,
      callSid: params['CallSid']!,
      customParameters: twiml.parameters,
    });
    await stream.waitForAgentAudio({ timeoutMs: 10_000 });
    const after = await postVoiceWebhook({ serverUrl: fleet.proxy.url, publicUrl: FLEET_PUBLIC_URL, authToken: TEST_AUTH_TOKEN, params });
    expect(readTwimlVerbs(after.body).map((v) => v.name)).toEqual(['Hangup']);
    expect(fleet.gemini.sessions.length - sessionsBefore).toBe(1);
    expect(sum(await counters('phone_agent_stream_affinity_total', { result: 'hit' }))).toBe(hitsBefore + 1);
    await stream.hangUp();
  });

  it('(f) with Redis stopped, a new call hears the busy message while a call in progress goes on; Redis back, new calls work without a restart', async () => {
    const pids = fleet.instances.map((i) => i.child.pid);
    const errorsBefore = sum(await counters('phone_agent_redis_errors_total'));
    const ongoing = await dial(fleet.proxy.url);
    await ongoing.stream!.waitForAgentAudio({ timeoutMs: 10_000 });

    await fleet.redis.stop();
    try {
      const refused = await dial(fleet.proxy.url);
      expect((await refused.ended).reason).toBe('hangup-verb');
      expect(refused.said).toEqual([BUSY_MESSAGE]);
      expect(refused.streamCount).toBe(0);
      await callerTurnAnswered(ongoing.stream!);
      expect(ongoing.stream!.isOpen).toBe(true);
    } finally {
      await fleet.redis.start();
    }
    // The instances reconnect by themselves: within a few seconds a new call streams and is greeted.
    const deadline = Date.now() + 20_000;
    let recovered: FakeTwilioCall | undefined;
    while (recovered === undefined) {
      const attempt = await dial(fleet.proxy.url);
      if (attempt.streamCount === 1) recovered = attempt;
      else if (Date.now() > deadline) throw new Error(`new calls still refused after Redis came back: ${attempt.said.join(' ')}`);
      else await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await recovered.stream!.waitForAgentAudio({ timeoutMs: 10_000 });
    expect(fleet.instances.map((i) => i.child.pid)).toEqual(pids);
    expect(sum(await counters('phone_agent_redis_errors_total'))).toBeGreaterThan(errorsBefore);
    expect(ongoing.stream!.isOpen).toBe(true);
  }, 60_000);

  it('(d) kill -9 of the instance carrying a call: the action request moves it to the other instance, the session resumes from its handle, no second greeting, no caller audio lost', async () => {
    const sessionIndex = fleet.gemini.sessions.length;
    let playedOnNewStream: Promise<unknown> | undefined;
    const call = await dial(fleet.proxy.url, {
      // Twilio streams caller audio from the first moment of the new stream: the caller is mid-sentence.
      onStream: (stream, info) => {
        if (info.number === 2) playedOnNewStream = stream.playCallerAudio(loadSpeechFixture('short-hello'));
      },
    });
    const first = call.stream!;
    const dead = namedInstance(call.streams[0]!.twiml.streamUrl);
    const survivor = IDS.find((id) => id !== dead)!;
    const failoversBefore = metric(await fleet.metrics(survivor), 'phone_agent_failovers_total');
    const session: FakeSession = await fleet.gemini.waitForSession(sessionIndex, 10_000);
    await first.waitForAgentAudio({ timeoutMs: 10_000 });
    await callerTurnAnswered(first);
    // The handle issued after the answer has reached Redis (the bridge stores every handle it gets).
    await session.waitUntil((s) => s.modelTurns.filter((t) => t.outcome === 'completed').length === 2 && s.issuedHandles.length >= 2, 10_000);
    await first.waitForPlayoutIdle(10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const latestHandle = session.issuedHandles.at(-1);

    await fleet.kill(dead);
    try {
      const second = await call.waitForStream(2, 20_000);
      expect(call.actionRequests).toHaveLength(1);
      expect(call.actionRequests[0]!.status).toBe(200);
      expect(call.actionRequests[0]!.params['CallSid']).toBe(call.callSid);
      expect(namedInstance(call.streams[1]!.twiml.streamUrl)).toBe(survivor);

      await playedOnNewStream;
      await second.waitForAgentAudio({ minBytes: 4_000, timeoutMs: 10_000 });
      const resumed = fleet.gemini.sessions.find((s) => s.index > sessionIndex && s.resumedFrom !== undefined && s.conversationId === session.conversationId);
      expect(resumed?.resumedFrom).toEqual({ handle: latestHandle, sessionIndex: session.index });
      // No second greeting: nothing was prompted on the resumed session, the only reply answers the caller.
      expect(resumed!.turns.map((t) => t.source)).toEqual(['audio']);
      expect(resumed!.modelTurns.map((t) => t.reply.text)).toEqual([FLEET_ANSWER]);
      expect(resumed!.receivedMessages.some((m) => 'kind' in m && m.kind === 'realtimeInput' && JSON.stringify(m).includes('"text"'))).toBe(false);
      expect(session.modelTurns[0]!.reply.text).toBe(FLEET_GREETING);

      // No caller audio lost: the speech starts at the same point of the new stream's audio and of what Gemini got.
      const twilioOnset = speechOnsetMs(sentCallerAudio(second), 8_000);
      const geminiOnset = speechOnsetMs(resumed!.receivedAudio16k.samples(), 16_000);
      expect(twilioOnset).toBeDefined();
      expect(geminiOnset).toBeDefined();
      expect(Math.abs(geminiOnset! - twilioOnset!)).toBeLessThanOrEqual(40);

      expect(metric(await fleet.metrics(survivor), 'phone_agent_failovers_total')).toBe(failoversBefore + 1);
      const kill = call.callMs(first, first.closeInfo!.atMs);
      console.log(
        `(d) failover: stream lost → action request ${(call.actionRequests[0]!.atMs - kill).toFixed(0)} ms, → new stream start ${(call.callMs(second, second.streamStartedAtMs!) - kill).toFixed(0)} ms; ` +
          `speech onset Twilio ${twilioOnset} ms / Gemini ${geminiOnset} ms`,
      );
      await call.hangUp();
      expect(call.streamCount).toBe(2);
    } finally {
      await fleet.restart(dead);
      await proxyServesOnlyReady(fleet.proxy.url);
    }
  }, 90_000);

  it('(e) SIGTERM drains: the draining instance finishes its call while the other takes the new ones', async () => {
    const call = await dial(fleet.proxy.url);
    await call.stream!.waitForAgentAudio({ timeoutMs: 10_000 });
    const draining = namedInstance(call.streams[0]!.twiml.streamUrl);
    const other = IDS.find((id) => id !== draining)!;
    const exited = fleet.terminate(draining);
    await expect.poll(async () => (await fetch(`${fleet.instance(draining).url}/readyz`)).status, { timeout: 5_000 }).toBe(503);
    await proxyServesOnlyReady(fleet.proxy.url);

    const fresh = await Promise.all(Array.from({ length: 4 }, () => dial(fleet.proxy.url)));
    for (const newCall of fresh) {
      expect(newCall.streamCount).toBe(1);
      expect(namedInstance(newCall.streams[0]!.twiml.streamUrl)).toBe(other);
      await newCall.stream!.waitForAgentAudio({ timeoutMs: 10_000 });
    }
    await callerTurnAnswered(call.stream!);
    expect(call.stream!.isOpen).toBe(true);
    expect(fleet.instance(draining).child.exitCode).toBeNull();
    await call.hangUp();
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(call.actionRequests).toEqual([]);
    await Promise.all(fresh.map((c) => c.hangUp()));
  }, 60_000);
});
