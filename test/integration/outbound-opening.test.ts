/**
 * Calls that work on real phones, through the real server: outbound calls placed with `POST /calls` on the fake
 * Twilio REST API and answered by the fake Twilio call (the callee's side played from the answering-machine corpus,
 * Twilio's AMD verdict sent signed to the server, streams reporting to `<Stream statusCallback>`), the real SDK
 * against the fake Live server; and warm transfers run by the fake's `<Dial>`: the whisper, the key press, the
 * action, and the caller back on a new stream that resumes the model session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CUES, DEFAULT_VOICEMAIL_INSTRUCTIONS } from '../../src/agents/agent.js';
import type { CallRecord } from '../../src/history/call-record.js';
import type { CallSummary } from '../../src/observability/call-events.js';
import { SILENT_CALLEE_MS } from '../../src/outbound/callee-verdict.js';
import { TRANSFER_NOT_TAKEN_WORDS } from '../../src/telephony/warm-transfer.js';
import type { FakeReply, FakeSession } from '../fakes/gemini-live/server.js';
import {
  FakeTwilioCall,
  loadSpeechFixture,
  postVoiceWebhook,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  type DialTarget,
  type FakeTwilioMediaStream,
  type FakeTwilioRestApi,
} from '../fakes/twilio/index.js';
import { loadAnsweringMachineAudio, loadAnsweringMachineCorpus } from '../support/answering-machine-corpus.js';
import { PUBLIC_URL, restaurantGreetingCue, startPlacingBridge, type Bridge } from '../support/bridge-harness.js';

const OUR_NUMBER = '+14155550100';
const CALLEE = '+14155550142';
const COLLEAGUE = '+14155550177';
const API_KEY = 'outbound-opening-key-0123456789abcdef';
const ADMIN_API_KEY = 'outbound-opening-admin-0123456789abcdef';

/** The fake model's synthetic voice, quicker than its default so the calls take less time. */
const MS_PER_CHAR = 30;
const PITCH = 'Hi, Ava from the Blue Door here. About your Friday booking: is now a good time?';
const IDENTIFICATION = 'Ava from the Blue Door, about a booking.';
const VOICEMAIL = 'Ava from the Blue Door. Please call us back about Friday.';
const UNPROMPTED = 'I should not be heard: nobody told me who answered.';
const CALLER_ASKS = 'Can I speak to the manager, please?';
const TRANSFER_SUMMARY = 'Sam wants to move his Friday booking to Saturday at eight.';
const ANNOUNCEMENT = 'Connecting you now.';
const MESSAGE_OFFER = 'Sorry, nobody took it. A message?';

const SCREENING_CUE = DEFAULT_CUES.screening;
const VOICEMAIL_CUE = DEFAULT_CUES.voicemailCompose.replace('{instructions}', DEFAULT_VOICEMAIL_INSTRUCTIONS);
const notTakenCue = (words: string): string => DEFAULT_CUES.transferNotTaken.replace('{outcome}', words);

/** What the fake model "hears" in the callee's next turn (its input transcription). */
let calleeWords: string | undefined;

function script({ heardText }: { heardText?: string }): FakeReply | undefined {
  switch (heardText) {
    case DEFAULT_CUES.outboundGreeting:
      return { text: PITCH };
    case SCREENING_CUE:
      return { text: IDENTIFICATION };
    case VOICEMAIL_CUE:
      return { text: VOICEMAIL };
    case restaurantGreetingCue():
      return { text: 'Blue Door, how can I help?' };
    case CALLER_ASKS:
      return { text: '', toolCalls: [{ name: 'transfer_call', args: { summary: TRANSFER_SUMMARY } }], afterToolResponses: () => ({ text: ANNOUNCEMENT }) };
    case notTakenCue(TRANSFER_NOT_TAKEN_WORDS['no-answer']):
      return { text: MESSAGE_OFFER };
    default:
      // Whatever the callee says, the model answers: none of it may reach the callee before a verdict.
      return heardText === undefined ? undefined : { text: UNPROMPTED };
  }
}

const scene = (name: string) => {
  const found = loadAnsweringMachineCorpus().scenes.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no scene ${name}`);
  return found;
};

describe('outbound calls on real phones: who answered, voicemail, screening', () => {
  let rest: FakeTwilioRestApi;
  let bridge: Bridge;

  beforeAll(async () => {
    ({ rest, bridge } = await startPlacingBridge(OUR_NUMBER, API_KEY, {
      gemini: { replies: script, transcribe: () => calleeWords, msPerChar: MS_PER_CHAR },
      env: { TWILIO_RECORDING: '1', TRANSFER_NUMBER: COLLEAGUE, TRANSFER_MODE: 'warm', ADMIN_API_KEY },
    }));
    rest.deliverWebhooksTo(bridge.app.localUrl);
  });
  afterAll(async () => {
    await bridge.stop();
    await rest.close();
  });

  /** `POST /calls`, then Twilio answers: the callee's side plays `calleeAudio`, Twilio's verdict comes as `amdVerdict` says. */
  async function placeCall(options: { calleeAudio?: Uint8Array; amdVerdict?: { answeredBy: string; afterMs: number } } = {}) {
    const sessionIndex = bridge.gemini.sessions.length;
    const response = await fetch(`${bridge.app.localUrl}/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: CALLEE }),
    });
    expect(response.status).toBe(201);
    const created = rest.getCall(((await response.json()) as { callSid: string }).callSid)!;
    const call = await FakeTwilioCall.answerOutbound(created, {
      serverUrl: bridge.app.localUrl,
      publicUrl: PUBLIC_URL,
      authToken: TEST_AUTH_TOKEN,
      restApi: rest,
      ...(options.amdVerdict === undefined ? {} : { amdVerdict: options.amdVerdict }),
      onStream: (stream) => {
        if (options.calleeAudio !== undefined) void stream.playCallerAudio(options.calleeAudio);
      },
    });
    const session = await bridge.gemini.waitForSession(sessionIndex);
    return { call, created, stream: call.stream!, session };
  }

  async function summaryOf(callSid: string): Promise<CallSummary & { callSid: string }> {
    return (await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid, 20_000)) as unknown as CallSummary & { callSid: string };
  }

  /** The cues the call sent the model, in order. */
  const cuesOf = (session: FakeSession): string[] => session.turns.filter((t) => t.source === 'text').map((t) => t.heardText ?? '');

  it('places the call with asynchronous answering machine detection reporting to us', async () => {
    calleeWords = undefined;
    const { call, created } = await placeCall({ calleeAudio: loadAnsweringMachineAudio(scene('human-01')) });
    const request = rest.requests.find((r) => r.path.endsWith('/Calls.json') && r.form.To === CALLEE)!;
    expect(request.form).toMatchObject({
      MachineDetection: 'DetectMessageEnd',
      AsyncAmd: 'true',
      AsyncAmdStatusCallback: `${PUBLIC_URL}/amd-status`,
      AsyncAmdStatusCallbackMethod: 'POST',
    });
    expect(created).toMatchObject({ machineDetection: 'DetectMessageEnd', asyncAmdStatusCallback: `${PUBLIC_URL}/amd-status` });
    await call.hangUp();
  });

  it('sends no agent audio to a silent callee before a verdict, even while the model talks on its own; then introduces', async () => {
    calleeWords = undefined;
    const { call, stream, session } = await placeCall();
    session.say({ text: UNPROMPTED }); // the model speaks unprompted, at once
    await stream.waitForAgentAudio({ timeoutMs: 10_000 });
    // Nothing reached the phone before the silence rule released the introduction.
    expect(stream.receivedMedia[0]!.atMs).toBeGreaterThanOrEqual(SILENT_CALLEE_MS);
    await session.waitUntil((s) => s.modelTurns.some((t) => t.reply.text === PITCH && t.outcome === 'completed'), 15_000);
    await stream.waitForPlayoutIdle(15_000);
    expect(cuesOf(session)).toEqual([DEFAULT_CUES.outboundGreeting]);
    // What the callee heard is the introduction alone, never the unprompted words.
    expect(stream.heardAudio.length).toBeLessThan(((PITCH.length * MS_PER_CHAR) / 1000) * 8000 * 1.1);
    await call.hangUp();
    const summary = await summaryOf(call.callSid);
    expect(summary.answeredBy).toEqual({ answeredBy: 'unknown', decidedBy: 'silence', atMs: expect.any(Number) });
    // Twilio records the call too, in two channels; the summary holds the recording's URL.
    const recording = rest.recordings.find((r) => r.callSid === call.callSid)!;
    expect(recording).toMatchObject({ channels: 2, track: 'both', statusCallback: `${PUBLIC_URL}/recording-status` });
    expect(summary.twilioRecording).toEqual({ sid: recording.sid, url: `https://api.twilio.com/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/${recording.sid}` });
    await bridge.waitForLog((l) => l.msg === "Twilio's recording of the call is completed" && l.callSid === call.callSid);
    // The stream's own events, as Twilio saw them, reached the log: posted to the stream's own path, which a load
    // balancer sends to the instance holding the stream.
    const { streamUrl, statusCallback } = call.streams[0]!.twiml;
    expect(statusCallback).toBe(streamUrl.replace(/^wss:/, 'https:'));
    await bridge.waitForLog((l) => l.msg === 'Twilio reports a media stream event' && l.callSid === call.callSid && l.event === 'stream-stopped');
    expect(call.streamStatusRequests.map((r) => [r.event, r.status])).toEqual([
      ['stream-started', 204],
      ['stream-stopped', 204],
    ]);
  });

  it("introduces at once on Twilio's human verdict, before the callee's hello has ended", async () => {
    calleeWords = 'Hello?';
    const { call, stream, session } = await placeCall({ calleeAudio: loadAnsweringMachineAudio(scene('human-01')), amdVerdict: { answeredBy: 'human', afterMs: 700 } });
    await session.waitUntil((s) => s.modelTurns.some((t) => t.reply.text === PITCH && t.outcome === 'completed'), 15_000);
    await stream.waitForPlayoutIdle(15_000);
    expect(cuesOf(session)).toEqual([DEFAULT_CUES.outboundGreeting]);
    await call.hangUp();
    const summary = await summaryOf(call.callSid);
    expect(summary.answeredBy).toMatchObject({ answeredBy: 'human', decidedBy: 'twilio' });
    expect(summary.answeredBy!.atMs).toBeLessThan(scene('human-01').speech[0]!.endMs + 400);
  });

  it("does not restart its first sentence when the callee's hello comes while it plays", async () => {
    calleeWords = 'Hello?';
    const hello = loadAnsweringMachineAudio(scene('human-01')).subarray(8 * 300, 8 * 1_100); // "Hello?" itself
    const { call, stream, session } = await placeCall();
    await stream.waitForAgentAudio({ timeoutMs: 10_000 });
    await stream.playCallerAudio(hello); // 0.8 s, at the start of the introduction
    await session.waitUntil((s) => s.modelTurns.some((t) => t.reply.text === PITCH && t.outcome === 'completed'), 15_000);
    await stream.waitForPlayoutIdle(15_000);
    expect(session.interruptions).toBe(0);
    expect(stream.clears).toEqual([]);
    // The model never heard the hello as a turn: its only turn is the cue, and it spoke the introduction once, whole.
    expect(session.turns.map((t) => t.source)).toEqual(['text']);
    expect(session.modelTurns.filter((t) => t.reply.text === PITCH)).toHaveLength(1);
    const introduction = session.modelTurns.find((t) => t.reply.text === PITCH)!;
    expect(stream.heardAudio.length).toBeGreaterThanOrEqual(Math.floor((introduction.audioSamples / 3) * 0.98));
    await call.hangUp();
  });

  it("leaves the voicemail on Twilio's machine_end_beep, plays it in full, then hangs up", async () => {
    calleeWords = undefined;
    const greeting = scene('machine-nobeep-01');
    const { call, stream, session } = await placeCall({
      calleeAudio: loadAnsweringMachineAudio(greeting),
      amdVerdict: { answeredBy: 'machine_end_beep', afterMs: greeting.speech[0]!.endMs + 400 },
    });
    expect(await call.ended).toMatchObject({ reason: 'rest-completed' });
    expect(cuesOf(session)).toEqual([VOICEMAIL_CUE]);
    const voicemail = session.modelTurns.find((t) => t.reply.text === VOICEMAIL)!;
    // Every sample of the voicemail played (24 kHz model audio, 8 kHz phone audio) before the hang-up.
    expect(stream.heardAudio.length).toBeGreaterThanOrEqual(Math.floor((voicemail.audioSamples / 3) * 0.98));
    const hangUp = rest.requests.find((r) => r.path.endsWith(`/Calls/${call.callSid}.json`) && r.form.Status === 'completed')!;
    expect(hangUp).toBeDefined();
    const summary = await summaryOf(call.callSid);
    expect(summary).toMatchObject({ endReason: 'voicemail-left', answeredBy: { answeredBy: 'machine', decidedBy: 'twilio' } });
    expect(stream.firstAgentAudioAtMs!).toBeGreaterThan(greeting.speech[0]!.endMs);
    // The verdict is in the call's history record too, as the admin API serves it.
    const record = async () => {
      const response = await fetch(`${bridge.app.localUrl}/api/calls/${call.callSid}`, { headers: { Authorization: `Bearer ${ADMIN_API_KEY}` } });
      return response.ok ? ((await response.json()) as CallRecord) : undefined;
    };
    await expect.poll(async () => (await record())?.summary.answeredBy, { timeout: 5_000 }).toEqual(summary.answeredBy);
  });

  it('leaves the voicemail after a beep our own detector heard, without any verdict from Twilio', async () => {
    calleeWords = undefined;
    const greeting = scene('machine-13');
    const { call, stream, session } = await placeCall({ calleeAudio: loadAnsweringMachineAudio(greeting) });
    expect(await call.ended).toMatchObject({ reason: 'rest-completed' });
    expect(cuesOf(session)).toEqual([VOICEMAIL_CUE]);
    const voicemail = session.modelTurns.find((t) => t.reply.text === VOICEMAIL)!;
    expect(stream.heardAudio.length).toBeGreaterThanOrEqual(Math.floor((voicemail.audioSamples / 3) * 0.98));
    // The message started after the beep: the machine recorded all of it.
    expect(stream.firstAgentAudioAtMs!).toBeGreaterThan(greeting.beep!.endMs);
    const summary = await summaryOf(call.callSid);
    expect(summary).toMatchObject({ endReason: 'voicemail-left', answeredBy: { answeredBy: 'machine', decidedBy: 'beep' } });
  });

  it("hangs up on a fax at once, on Twilio's verdict or on its answer tone, with no agent audio", async () => {
    calleeWords = undefined;
    for (const [options, decidedBy] of [
      [{ amdVerdict: { answeredBy: 'fax', afterMs: 600 } }, 'twilio'],
      [{ calleeAudio: loadAnsweringMachineAudio(scene('fax-01')) }, 'fax-tone'],
    ] as const) {
      const { call, stream } = await placeCall(options);
      expect(await call.ended).toMatchObject({ reason: 'rest-completed' });
      expect(stream.receivedMedia).toEqual([]);
      expect(await summaryOf(call.callSid)).toMatchObject({ endReason: 'answered-by-fax', answeredBy: { answeredBy: 'fax', decidedBy } });
    }
  });

  it("gives a call screener a brief identification and no pitch, and ignores Twilio's 'machine' for its long prompt", async () => {
    const screener = scene('screener-02');
    calleeWords = screener.speech[0]!.text;
    const { call, stream, session } = await placeCall({
      calleeAudio: loadAnsweringMachineAudio(screener),
      amdVerdict: { answeredBy: 'machine_end_silence', afterMs: screener.speech[0]!.endMs + 1_500 },
    });
    await session.waitUntil((s) => s.modelTurns.some((t) => t.reply.text === IDENTIFICATION && t.outcome === 'completed'), 20_000);
    await stream.waitForPlayoutIdle(15_000);
    await bridge.waitForLog((l) => l.msg === "Twilio's answering machine verdict" && l.callSid === call.callSid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cuesOf(session)).toEqual([SCREENING_CUE]);
    expect(session.modelTurns.some((t) => t.reply.text === PITCH)).toBe(false);
    expect(stream.heardAudio.length).toBeLessThan(((IDENTIFICATION.length * MS_PER_CHAR) / 1000) * 8000 * 1.1);
    await call.hangUp();
    const summary = await summaryOf(call.callSid);
    expect(summary.answeredBy).toMatchObject({ answeredBy: 'screener', decidedBy: 'transcript' });
    const ignored = bridge.logs.find((l) => l.callSid === call.callSid && l.msg === "Twilio's answering machine verdict");
    expect(ignored).toMatchObject({ answeredBy: 'machine_end_silence' });
  });

  it("refuses Twilio's reports unsigned or malformed, and a whisper for a call with no transfer hangs up the dialled leg", async () => {
    const post = (path: string, params: Record<string, string>, signature?: string | null) =>
      postVoiceWebhook({ serverUrl: bridge.app.localUrl, publicUrl: PUBLIC_URL, authToken: TEST_AUTH_TOKEN, path, params, ...(signature === undefined ? {} : { signature }) });
    const callSid = `CA${'5'.repeat(32)}`;
    for (const path of ['/amd-status', '/media/agent-1', '/recording-status', '/transfer/whisper', '/transfer/accepted', '/transfer/ended']) {
      expect((await post(path, { CallSid: callSid }, null)).status, path).toBe(403);
    }
    expect((await post('/amd-status', { CallSid: callSid, AnsweredBy: 'robot' })).status).toBe(400);
    expect((await post('/media/agent-1', { CallSid: callSid, StreamEvent: 'stream-exploded' })).status).toBe(400);
    expect((await post('/amd-status', { CallSid: callSid, AnsweredBy: 'human' })).status).toBe(204);
    const whisper = await post(`/transfer/whisper?call=${callSid}`, { CallSid: `CA${'6'.repeat(32)}`, ParentCallSid: callSid });
    expect(whisper.body).toContain('<Hangup/>');
    expect(whisper.body).not.toContain('<Say');
  });

  describe('warm transfer', () => {
    /** An inbound call: the caller asks for the manager, the model transfers with a summary; the colleague behaves as `target`. */
    async function callAndTransfer(target: DialTarget): Promise<{ call: FakeTwilioCall; first: FakeTwilioMediaStream; sessionIndex: number }> {
      calleeWords = CALLER_ASKS;
      const sessionIndex = bridge.gemini.sessions.length;
      const call = await FakeTwilioCall.dial({
        serverUrl: bridge.app.localUrl,
        publicUrl: PUBLIC_URL,
        authToken: TEST_AUTH_TOKEN,
        restApi: rest,
        params: { To: OUR_NUMBER },
        dialTargets: () => target,
      });
      const first = call.stream!;
      const session = await bridge.gemini.waitForSession(sessionIndex);
      await session.waitUntil((s) => s.modelTurns[0]?.outcome === 'completed', 10_000);
      await first.playCallerAudio(loadSpeechFixture('booking-question'));
      return { call, first, sessionIndex };
    }

    it('whispers the summary to the person called, who takes it with a key, then connects them; the call ends with that leg', async () => {
      const { call, first } = await callAndTransfer({ answer: 'pick-up', pressKey: '1', talkMs: 200 });
      expect(await call.ended).toMatchObject({ reason: 'hangup-verb' });
      expect(first.heardAudio.length).toBeGreaterThan(0);
      const dial = call.dials[0]!;
      expect(dial).toMatchObject({ number: COLLEAGUE, digits: '1', status: 'completed' });
      expect(dial.whisper).toEqual([`${DEFAULT_CUES.transferWhisper.replace('{summary}', TRANSFER_SUMMARY)} ${DEFAULT_CUES.transferAccept}`]);
      expect(dial.bridgedAtMs).toBeDefined();
      // The redirect went out once the announcement had played.
      const redirect = rest.requests.find((r) => r.path.endsWith(`/Calls/${call.callSid}.json`) && r.form.Twiml !== undefined)!;
      expect(redirect.form.Twiml).toContain(`<Number url="${PUBLIC_URL}/transfer/whisper?call=${call.callSid}" method="POST">${COLLEAGUE}</Number>`);
      expect(call.actionRequests.at(-1)!.params).toMatchObject({ DialCallStatus: 'completed', DialBridged: 'true' });
      expect((await summaryOf(call.callSid)).endReason).toBe('transferred-warm');
      await bridge.waitForLog((l) => l.msg === 'warm transfer done: the call ends with its dialled leg' && l.callSid === call.callSid);
    });

    it('brings the caller back to the agent when nobody answers: a new stream, the model session resumed, a message offered', async () => {
      const { call, sessionIndex } = await callAndTransfer({ answer: 'no-answer', ringMs: 100 });
      const back = await call.waitForStream(2, 15_000);
      expect(call.streams[1]!.source).toBe('action');
      const resumed = await bridge.gemini.waitForSession(sessionIndex + 1);
      expect(resumed.resumedFrom?.sessionIndex).toBe(sessionIndex);
      await resumed.waitUntil((s) => s.modelTurns.some((t) => t.reply.text === MESSAGE_OFFER && t.outcome === 'completed'), 15_000);
      await back.waitForPlayoutIdle(15_000);
      expect(back.heardAudio.length).toBeGreaterThan(0);
      expect(resumed.turns.map((t) => t.heardText)).toEqual([notTakenCue(TRANSFER_NOT_TAKEN_WORDS['no-answer'])]);
      expect(call.dials[0]).toMatchObject({ status: 'no-answer', whisper: [] });
      await call.hangUp();
      await bridge.waitForLog((l) => l.msg === 'the caller is back from a warm transfer nobody took' && l.callSid === call.callSid);
    });
  });
});
