/**
 * The newest reported behaviours of the real Live service, each an option of the fake with its source
 * (test/fakes/gemini-live/types.ts `LiveQuirks`), through the real server, the real SDK and a fake Twilio:
 * - answers the caller cannot hear, and runs of rejected turns (google-gemini/gemini-live-api-examples#40);
 * - an ignored utterance that leaves a turn open (google-gemini/gemini-live-api-examples#38);
 * - voice detection that needs trailing audio (openclaw/openclaw#152830);
 * - tool calls repeated after an uninformative result (Google's Gemini 3.8 migration notes).
 * docs/real-service-behaviour.md maps each one to its test here.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CUES, defineAgent, type Agent } from '../../src/agents/agent.js';
import { meanSquareToDbfs, mulawMeanSquare } from '../../src/audio/level.js';
import { defineTool } from '../../src/tools/tool.js';
import type { FakeGeminiLiveOptions, FakeReply, FakeSession } from '../fakes/gemini-live/server.js';
import { loadSpeechFixture, type FakeTwilioMediaStreamOptions } from '../fakes/twilio/index.js';
import { bridgeCalls, restaurantGreetingCue, textsSent, type Bridge } from '../support/bridge-harness.js';

const GREETING = 'Blue Door, how can I help?';
const ANSWER = 'Certainly, we have a table at eight.';
const completedTurns = (session: FakeSession) => session.modelTurns.filter((turn) => turn.outcome === 'completed').length;

describe("the real service's newest reported failures", () => {
  const calls = bridgeCalls();
  async function start(gemini: FakeGeminiLiveOptions, options: { env?: Record<string, string>; twilio?: Partial<FakeTwilioMediaStreamOptions>; agents?: () => Agent[] } = {}) {
    // Replies spoken quickly (25 ms a character) keep each call short.
    const call = await calls.start({ gemini: { msPerChar: 25, ...gemini }, ...options });
    await call.twilio.waitForPlayoutIdle(10_000);
    return call;
  }

  const summaryOf = (b: Bridge, callSid: string) => b.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
  const greetThenAnswer = ({ heardText }: { heardText?: string }): FakeReply => ({ text: heardText === restaurantGreetingCue() ? GREETING : ANSWER });

  it('an answer streamed at near-zero amplitude is caught from its samples: a resumed connection and a cue, and the caller hears it', async () => {
    // Caller turn 0 is the greeting cue, 1 the caller's question: its answer arrives whole, but at -60 dB.
    const { callSid, twilio, session, bridge: b } = await start({ replies: greetThenAnswer, quirks: { nearSilentAnswers: [1] } });
    const heardBefore = twilio.heardAudio.length;
    await twilio.playCallerAudio(loadSpeechFixture('booking-question'));
    const resumed = await b.gemini.waitForSession(1, 10_000);
    expect(resumed.resumedFrom?.sessionIndex).toBe(0);
    await resumed.waitUntil((s) => textsSent(s).includes(DEFAULT_CUES.unheardAnswer) && completedTurns(s) >= 1, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    const quiet = session.modelTurns[1]!;
    expect(quiet.audioSamplesSent).toBe(quiet.audioSamples); // the quiet answer arrived whole: only its samples tell
    const played = twilio.heardAudio.subarray(heardBefore);
    expect(loudestSecondDbfs(played)).toBeGreaterThan(-30); // the answer said again, at speaking level
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ inaudibleAnswers: 1, rejectedTurns: 0, sessionSwitches: { inaudibleAnswer: 1 } });
  });

  it('a run of RESPONSE_REJECTED turns: one is cued as an empty turn, the second moves to a fresh resumed connection with a cue', async () => {
    // Turn 1: the question, rejected; turn 2: the empty-turn cue, rejected too; the resumed connection answers.
    const { callSid, twilio, bridge: b } = await start({ replies: greetThenAnswer, quirks: { rejectedTurns: [1, 2] } });
    await twilio.playCallerAudio(loadSpeechFixture('booking-question'));
    const resumed = await b.gemini.waitForSession(1, 10_000);
    await resumed.waitUntil((s) => textsSent(s).includes(DEFAULT_CUES.unheardAnswer) && completedTurns(s) >= 1, 10_000);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ rejectedTurns: 2, emptyTurns: 1, sessionSwitches: { rejectedTurns: 1 } });
    expect(b.logs.filter((line) => line.msg === 'the model declined to answer this turn')).toHaveLength(2);
  });

  it('an utterance the server ignores leaves a turn open: the stall watchdog gets the caller an answer (cue, then a resumed connection)', async () => {
    const { callSid, twilio, session, bridge: b } = await start({ replies: greetThenAnswer, quirks: { ignoredUtterances: [1] } }, { env: { STALL_TIMEOUT_MS: '800' } });
    await twilio.playCallerAudio(loadSpeechFixture('booking-question'));
    // The cue is swallowed to close the open turn, with no output at all ...
    await session.waitUntil((s) => textsSent(s).includes(DEFAULT_CUES.stall), 5_000);
    // ... so the watchdog resumes the session, which hears the question again (replayed) and answers it.
    const resumed = await b.gemini.waitForSession(1, 8_000);
    await resumed.waitUntil((s) => completedTurns(s) >= 1, 10_000);
    expect(resumed.turns.some((turn) => turn.source === 'audio')).toBe(true);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ stalls: 2, sessionSwitches: { stall: 1 } });
  });

  it('voice detection that needs trailing audio still ends the caller\'s turn when the phone leg sends nothing after the words: silence keeps flowing', async () => {
    // The phone sends no frames once the caller stops (continuousSilence off); the model never ends a turn on
    // audioStreamEnd and needs received silence. The call keeps sending silence (caller-timeline.ts): without it
    // no reply would ever come.
    const { callSid, twilio, session, bridge: b } = await start({ replies: greetThenAnswer, quirks: { needsTrailingAudio: true } }, { twilio: { continuousSilence: false } });
    await twilio.playCallerAudio(loadSpeechFixture('booking-question'));
    await session.waitUntil((s) => completedTurns(s) === 2, 10_000);
    expect(session.modelTurns[1]!.reply.text).toBe(ANSWER);
    expect(session.receivedMessages.some((m) => m.kind === 'realtimeInput' && m.input.type === 'audioStreamEnd')).toBe(false);
    await twilio.hangUp();
    const summary = await summaryOf(b, callSid);
    expect(summary.callerGapFilledSeconds).toBeGreaterThan(0.5);
  });

  it('a tool call the model repeats after an uninformative result is answered from the first without running the tool again; an empty result says so and is not repeated', async () => {
    let searches = 0;
    let lookups = 0;
    const agent = defineAgent({
      name: 'tables',
      instructions: 'You find tables.',
      tools: [
        defineTool({ name: 'search_tables', description: 'Searches.', behavior: 'BLOCKING', parameters: { type: 'object', properties: { day: { type: 'string' } } }, handler: () => (searches++, { results: [], total_available: 0 }) }),
        defineTool({ name: 'lookup_waitlist', description: 'Waitlist.', behavior: 'BLOCKING', handler: () => (lookups++, []) }),
      ],
    });
    const { callSid, twilio, session, bridge: b } = await start({ replies: ({ turnIndex }) => ({ text: turnIndex === 0 ? GREETING : ANSWER }), quirks: { sweepsOnUninformativeToolResult: 3 } }, { agents: () => [agent] });
    session.sendToolCall([{ name: 'search_tables', args: { day: 'friday' } }], { text: 'Friday is full.' });
    await session.waitUntil((s) => completedTurns(s) === 2, 10_000);
    expect(session.toolCalls.filter((call) => call.name === 'search_tables')).toHaveLength(4); // the first and three sweeps
    expect(searches).toBe(1);
    session.sendToolCall([{ name: 'lookup_waitlist', args: {} }], { text: 'Nobody is waiting.' });
    await session.waitUntil((s) => completedTurns(s) === 3, 10_000);
    expect(session.toolCalls.filter((call) => call.name === 'lookup_waitlist')).toHaveLength(1); // the envelope said "no results"
    expect(session.toolResponses.at(-1)?.response.response).toEqual({ output: { status: 'no_results', retryable: false, hint: expect.any(String) } });
    expect(lookups).toBe(1);
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
    expect(await summaryOf(b, callSid)).toMatchObject({ repeatedToolCalls: 3 });
  });
});

/** The loudest second of mu-law audio (half-second steps), in dBFS RMS. */
function loudestSecondDbfs(mulaw: Uint8Array): number {
  let loudest = -Infinity;
  for (let start = 0; start + 8000 <= mulaw.length; start += 4000) loudest = Math.max(loudest, meanSquareToDbfs(mulawMeanSquare(mulaw, start, start + 8000)));
  return loudest;
}
