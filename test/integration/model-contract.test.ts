import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CUES, defineAgent } from '../../src/agents/agent.js';
import { DefinitionError, defineTool } from '../../src/tools/tool.js';
import { loadSpeechFixture } from '../fakes/twilio/index.js';
import { startBridge, type Bridge } from '../support/bridge-harness.js';
import { ANSWER_MS, createMulawModel, GREETING, GREETING_MS } from '../support/mulaw-model.js';
import { waitUntil } from '../support/wait.js';

/**
 * The model contract is enough for another provider: a model written from the public API alone
 * (test/support/mulaw-model.ts), speaking the phone's mu-law both ways and offering no optional capability,
 * takes a call through the real server and a fake Twilio.
 */
const orders = () =>
  defineAgent({
    name: 'orders',
    instructions: 'You look up orders by their code.',
    voice: 'plain',
    tools: [
      defineTool({
        name: 'lookup_order',
        description: 'Finds an order by its code.',
        behavior: 'BLOCKING',
        parameters: { type: 'object', properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } }, required: ['code'] },
        handler: ({ code }) => ({ found: code === '577269', summary: 'Two lamps, shipped Monday.' }),
      }),
    ],
  });

let bridge: Bridge | undefined;
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
});

/** Where `part` starts in `whole`, or -1. */
function indexOf(whole: readonly number[], part: Uint8Array): number {
  outer: for (let start = 0; start + part.length <= whole.length; start++) {
    for (let i = 0; i < part.length; i++) if (whole[start + i] !== part[i]) continue outer;
    return start;
  }
  return -1;
}

describe('another model behind the contract', () => {
  it('takes a call: greeting, caller audio untouched, the watchdog without a reconnect, a tool, and a barge-in', async () => {
    const { model, record } = createMulawModel();
    bridge = await startBridge({ model, agents: () => [orders()], env: { STALL_TIMEOUT_MS: '800' } });
    const { callSid, twilio } = await bridge.placeCall();

    // 1. Set up with the agent in the contract's terms, cued to greet; its mu-law greeting plays as it was sent.
    await waitUntil('the greeting cue', () => record.texts.length > 0, 5_000);
    expect(record.settings[0]).toMatchObject({ agentName: 'orders', model: 'mulaw-1', voice: 'plain' });
    expect(record.settings[0]!.tools.map((tool) => tool.name)).toEqual(['end_call', 'lookup_order']);
    expect(record.texts[0]).toBe(DEFAULT_CUES.inboundGreeting);
    await twilio.waitFor((s) => s.heardAudio.length >= GREETING_MS * 8, 5_000, 'the greeting played');
    await twilio.waitForPlayoutIdle(5_000);
    expect(Math.abs(twilio.heardAudio.length - GREETING_MS * 8)).toBeLessThanOrEqual(160);

    // 2. The caller's words reach the model byte for byte: a mu-law model gets the phone's audio unconverted.
    const hello = loadSpeechFixture('short-hello');
    await twilio.playCallerAudio(hello);
    const wholeFrames = hello.subarray(0, hello.length - (hello.length % 160)); // Twilio pads the last frame
    await waitUntil('the caller audio at the model', () => indexOf(record.received, wholeFrames) >= 0, 2_000);

    // 3. The model never answers: the watchdog cues it, and does not ask a model without resumption to reconnect.
    await waitUntil('the stall cue', () => record.texts.includes(DEFAULT_CUES.stall), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the watchdog's later stages, which would reconnect
    expect(record.reconnects).toBe(0);

    // 4. Keys become a tool call; the real handler's answer goes back typed; the model reads it out at length.
    for (const digit of ['5', '7', '7', '2', '6', '9', '#'] as const) twilio.sendDtmf(digit);
    await waitUntil('the tool answer', () => record.answers.length === 1, 5_000);
    expect(record.answers[0]).toMatchObject({ name: 'lookup_order', response: { output: { found: true, summary: 'Two lamps, shipped Monday.' } } });
    const heardBefore = twilio.heardAudio.length;
    await twilio.waitFor((s) => s.heardAudio.length > heardBefore + 4_000, 5_000, 'half a second of the answer played');

    // 5. The caller talks over it: the model says it was interrupted, and the call clears Twilio at once.
    const speaking = twilio.playCallerAudio(loadSpeechFixture('barge-in'));
    const clear = await twilio.waitForClear({ timeoutMs: 3_000 });
    expect(clear.discardedBytes).toBeGreaterThan(8 * 1_000);
    expect(clear.discardedBytes).toBeLessThan(ANSWER_MS * 8);
    await speaking;

    await twilio.hangUp();
    const summary = await bridge.waitForLog((line) => line.msg === 'call ended' && line.callSid === callSid);
    expect(summary).toMatchObject({ interruptions: 1, modelConnections: 1, sessionSwitches: { handover: 0, connectionLost: 0, stall: 0 }, endReason: 'caller-hung-up' });
    expect(summary.stalls).toBeGreaterThanOrEqual(2);
    expect(record.closed).toBe(1);
    expect(twilio.violations).toEqual([]);
  }, 30_000);

  it("refuses at start-up an agent's voice the model does not have, naming the agent", async () => {
    const { model } = createMulawModel();
    const refusal = await startBridge({ model, agents: () => [defineAgent({ name: 'loud', instructions: 'x', voice: 'Kore' })] }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DefinitionError);
    expect((refusal as DefinitionError).problems).toEqual(['agent "loud": voice "Kore" is not a mu-law model voice; use plain']);
  });
});
