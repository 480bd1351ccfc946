import { loadSpeechFixture, type CallerPlayback, type FakeTwilioMediaStream } from '../fakes/twilio/index.js';
import { sleep, type Bridge, type BridgeOptions } from './bridge-harness.js';

export const INSPECTED_CALLER = '+14155550123';
// ~7 s of synthesized speech at the fake's 60 ms per character: long enough to talk over.
export const LONG_GREETING = 'Thanks for calling the Blue Door restaurant on Market Street, this is the reservations line. How may I help?';
export const SHORT_ANSWER = 'Sure, what time works better?';
export const BOOKED = 'Your table is booked for Saturday.';

/** The fake model's side of the call: the long greeting when cued, the short answer to what the caller says. */
export const INSPECTED_CALL_MODEL: BridgeOptions['gemini'] = { replies: ({ source }) => ({ text: source === 'text' ? LONG_GREETING : SHORT_ANSWER }) };

export interface InspectedCall {
  callSid: string;
  twilio: FakeTwilioMediaStream;
  /** The caller's speech over the greeting, and when it played (the fake Twilio's clock). */
  speech: Uint8Array;
  playback: CallerPlayback;
}

/**
 * A call with what the history must show: the caller talks over the greeting (a barge-in), hears the answer in
 * full, the model looks a booking up (a tool call) and says so, then the caller hangs up.
 */
export async function placeInspectedCall(bridge: Bridge): Promise<InspectedCall> {
  const sessionIndex = bridge.gemini.sessions.length;
  const { callSid, twiml } = await bridge.ringWebhook({ From: INSPECTED_CALLER, Caller: INSPECTED_CALLER });
  const twilio = await bridge.openStream(callSid, twiml);
  const session = await bridge.gemini.waitForSession(sessionIndex);
  await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
  await sleep(1_500);
  const speech = loadSpeechFixture('barge-in');
  const playback = await twilio.playCallerAudio(speech);
  await twilio.waitForClear({ timeoutMs: 3_000 });
  await session.waitUntil((s) => s.modelTurns[1]?.outcome === 'completed', 10_000);
  await twilio.waitForPlayoutIdle(10_000);
  session.sendToolCall([{ name: 'find_booking', args: { code: 'K7Q2M9' } }], { text: BOOKED });
  await session.waitUntil((s) => s.modelTurns.at(-1)?.outcome === 'completed' && s.toolResponses.length === 1, 10_000);
  await twilio.waitForPlayoutIdle(10_000);
  await twilio.hangUp();
  return { callSid, twilio, speech, playback };
}
