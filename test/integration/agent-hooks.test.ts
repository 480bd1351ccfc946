import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agents/agent.js';
import type { CallDetails } from '../../src/domain/call-details.js';
import type { CallEvent, CallSummary } from '../../src/observability/call-events.js';
import { loadSpeechFixture } from '../fakes/twilio/index.js';
import { startBridge, type Bridge } from '../support/bridge-harness.js';
import { waitUntil } from '../support/wait.js';

let bridge: Bridge | undefined;
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
});

describe("an agent's hooks on its calls", () => {
  it('onCallEvent sees every event, per-frame audio included; onCallEnded gets the summary', async () => {
    const events: CallEvent[] = [];
    const ended: Array<{ summary: CallSummary; call: CallDetails }> = [];
    const agent = defineAgent({
      name: 'hooked',
      instructions: 'You greet and answer briefly.',
      onCallEvent: (event) => events.push(event),
      onCallEnded: (summary, call) => void ended.push({ summary, call }),
    });
    bridge = await startBridge({ agents: () => [agent], gemini: { replies: () => ({ text: 'Hello there.' }) } });
    const { callSid, twilio } = await bridge.placeCall();
    await twilio.waitForAgentAudio({ timeoutMs: 5_000 });
    await twilio.playCallerAudio(loadSpeechFixture('short-hello'));
    await twilio.waitForPlayoutIdle(10_000);
    await twilio.hangUp();
    await waitUntil('onCallEnded', () => ended.length === 1, 5_000);

    const types = new Set(events.map((event) => event.type));
    for (const type of ['started', 'callerAudio', 'agentAudioSent', 'markSent', 'agentAudioHeard', 'agentTurnStarted', 'ended'] as const) {
      expect(types, type).toContain(type);
    }
    const callerFrames = events.filter((event) => event.type === 'callerAudio').length;
    expect(callerFrames).toBe(twilio.callerFramesSent);
    expect(ended[0]!.call.callSid).toBe(callSid);
    expect(ended[0]!.summary.endReason).toBe('caller-hung-up');
  });
});
