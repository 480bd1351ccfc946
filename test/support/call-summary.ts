import { callCost } from '../../src/costs/call-cost.js';
import { callRates, DEFAULT_PRICES } from '../../src/costs/prices.js';
import { UsageMeter } from '../../src/costs/usage-meter.js';
import type { CallSummary } from '../../src/observability/call-events.js';

/** A call summary of a call where nothing happened, for listeners' unit tests; `overrides` set what matters. */
export function quietCallSummary(overrides: Partial<CallSummary> = {}): CallSummary {
  const tokens = new UsageMeter('none').tokens({ toModel: 0, fromModel: 0 }, DEFAULT_PRICES.audioTokensPerSecond);
  return {
    agent: 'test-agent',
    direction: 'inbound',
    endReason: 'caller-hung-up',
    durationMs: 0,
    callerAudioSeconds: 0,
    agentAudioSentSeconds: 0,
    agentAudioHeardSeconds: 0,
    interruptions: 0,
    agentTurns: 0,
    callerTurns: 0,
    streamStartToFirstAgentAudioMs: undefined,
    callerGapFilledSeconds: 0,
    callerAudioDroppedSeconds: 0,
    callerGapRefusedSeconds: 0,
    modelConnections: 1,
    sessionSwitches: { handover: 0, connectionLost: 0, stall: 0, inaudibleAnswer: 0, rejectedTurns: 0 },
    stalls: 0,
    emptyTurns: 0,
    silencePrompts: 0,
    repeatedToolCalls: 0,
    inaudibleAnswers: 0,
    rejectedTurns: 0,
    greetingPrepared: false,
    tokens,
    cost: callCost(tokens, 0, callRates(DEFAULT_PRICES, 'gemini-3.8-live', 'inbound')),
    ...overrides,
  };
}
