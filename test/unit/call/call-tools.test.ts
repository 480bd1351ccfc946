import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CUES } from '../../../src/agents/agent.js';
import { CallTools, FINISH_WATCHDOG_MS, KEYPAD_PAUSE_MS } from '../../../src/call/call-tools.js';
import type { CallEvent } from '../../../src/observability/call-events.js';
import type { ToolAnswer } from '../../../src/model/realtime-model.js';
import { dialTwiml, TwilioRestError, type CallControl } from '../../../src/telephony/twilio-rest.js';
import { endCallTool } from '../../../src/tools/end-call.js';
import { ToolRegistry } from '../../../src/tools/tool.js';
import { transferCallTool } from '../../../src/tools/transfer-call.js';
import { capturingLogger } from '../../support/log-capture.js';

const CALL_SID = `CA${'3'.repeat(32)}`;
const TRANSFER_TO = '+14155550199';

/** The REST boundary, recorded; its answers are what each test needs. */
function recordingCallControl(answer: () => Promise<'updated' | 'already-ended'> = async () => 'updated') {
  const requests: Array<{ kind: 'hangUp' | 'redirect'; callSid: string; twiml?: string }> = [];
  const control: CallControl = {
    hangUp: (callSid) => (requests.push({ kind: 'hangUp', callSid }), answer()),
    redirect: (callSid, twiml) => (requests.push({ kind: 'redirect', callSid, twiml }), answer()),
  };
  return { control, requests };
}

function setup(callControl: CallControl) {
  const { log, lines } = capturingLogger();
  const responses: ToolAnswer[] = [];
  const texts: string[] = [];
  const ended: string[] = [];
  const events: CallEvent[] = [];
  let audioPending = false;
  const tools = new CallTools({
    call: { callSid: CALL_SID, direction: 'inbound', from: '+14155550123', to: '+16505550100', callerNumber: '+14155550123', agent: 'test-agent' },
    cues: DEFAULT_CUES,
    language: undefined,
    registry: new ToolRegistry([endCallTool, transferCallTool(TRANSFER_TO)]),
    callControl,
    log,
    toolTimeoutMs: 1_000,
    model: { sendToolAnswers: (r) => responses.push(...r), sendText: (t) => texts.push(t) },
    agentAudioPending: () => audioPending,
    endCall: (reason) => ended.push(reason),
    publish: (event) => events.push(event),
  });
  return {
    tools,
    responses,
    texts,
    ended,
    events,
    lines,
    setAudioPending: (pending: boolean) => (audioPending = pending),
  };
}

/** Lets promise chains (tool handlers, the REST request) run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CallTools: end_call', () => {
  it('answers at once, and hangs up only after the goodbye turn completed and Twilio played all of it', async () => {
    const rest = recordingCallControl();
    const t = setup(rest.control);
    t.tools.onToolCall([{ id: 'fc-1', name: 'end_call', args: {} }]);
    await settle();
    expect(t.responses).toEqual([{ id: 'fc-1', name: 'end_call', response: { output: expect.objectContaining({ status: 'ending' }) } }]);
    expect(t.events.map((e) => e.type)).toEqual(['toolCall', 'toolResult']);
    expect(t.events[1]).toMatchObject({ type: 'toolResult', id: 'fc-1', name: 'end_call', ok: true, response: t.responses[0]!.response });

    // The goodbye is being generated and played.
    t.setAudioPending(true);
    t.tools.onAgentAudioPlayed(); // an earlier turn's marks: the goodbye is not complete yet
    await settle();
    expect(rest.requests).toEqual([]);
    t.tools.onModelTurnComplete(); // generated in full, but still playing
    await settle();
    expect(rest.requests).toEqual([]);

    t.setAudioPending(false);
    t.tools.onAgentAudioPlayed(); // the last mark came back
    await settle();
    expect(rest.requests).toEqual([{ kind: 'hangUp', callSid: CALL_SID }]);
    expect(t.ended).toEqual(['agent-hung-up']);
    expect(t.lines.some((l) => l.msg === 'hung up the call through the Twilio REST API' && l.trigger === 'goodbye-played')).toBe(true);
  });

  it('hangs up at the end of the turn when its audio has already played', async () => {
    const rest = recordingCallControl();
    const t = setup(rest.control);
    t.tools.onToolCall([{ id: 'fc-1', name: 'end_call', args: {} }]);
    await settle();
    t.tools.onModelTurnComplete();
    await settle();
    expect(rest.requests.map((r) => r.kind)).toEqual(['hangUp']);
  });

  it('hangs up anyway when marks never come back (watchdog)', async () => {
    const rest = recordingCallControl();
    const t = setup(rest.control);
    t.setAudioPending(true);
    t.tools.onToolCall([{ id: 'fc-1', name: 'end_call', args: {} }]);
    await settle();
    t.tools.onModelTurnComplete();
    await vi.advanceTimersByTimeAsync(FINISH_WATCHDOG_MS - 1);
    expect(rest.requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(rest.requests.map((r) => r.kind)).toEqual(['hangUp']);
    expect(t.ended).toEqual(['agent-hung-up']);
    expect(t.lines.find((l) => l.msg.startsWith('goodbye did not finish playing'))).toMatchObject({ level: 40, replyFinished: true, agentAudioPending: true });
  });

  it('still ends the call (by closing the stream) when the REST hang-up fails', async () => {
    const rest = recordingCallControl(() => Promise.reject(new TwilioRestError('Twilio answered 401 (error 20003): Authenticate', 401, 20003)));
    const t = setup(rest.control);
    t.tools.onToolCall([{ id: 'fc-1', name: 'end_call', args: {} }]);
    await settle();
    t.tools.onModelTurnComplete();
    await settle();
    expect(t.ended).toEqual(['agent-hung-up']);
    expect(t.lines.some((l) => l.msg.startsWith('Twilio REST hang-up failed') && l.level === 50)).toBe(true);
  });

  it('ends a call only once', async () => {
    const rest = recordingCallControl();
    const t = setup(rest.control);
    t.tools.onToolCall([{ id: 'a', name: 'end_call', args: {} }]);
    t.tools.onToolCall([{ id: 'b', name: 'transfer_call', args: {} }]);
    await settle();
    expect(t.responses.map((r) => r.response)).toEqual([{ output: expect.objectContaining({ status: 'ending' }) }, { output: { status: 'already-ending' } }]);
    t.tools.onModelTurnComplete();
    t.tools.onModelTurnComplete();
    t.tools.onAgentAudioPlayed();
    await settle();
    expect(rest.requests).toHaveLength(1);
  });

  it('after a Live session failure, drops running calls and treats the goodbye turn as over', async () => {
    const rest = recordingCallControl();
    const t = setup(rest.control);
    t.tools.onToolCall([{ id: 'fc-1', name: 'end_call', args: {} }]);
    await settle();
    t.tools.onModelSessionSwitched(false); // a planned handover happens between turns: nothing changes
    await settle();
    expect(rest.requests).toEqual([]);
    t.tools.onModelSessionSwitched(true);
    await settle();
    expect(rest.requests.map((r) => r.kind)).toEqual(['hangUp']);
  });
});

describe('CallTools: transfer_call', () => {
  it('redirects the call to <Dial> after the announcement has played', async () => {
    const rest = recordingCallControl();
    const t = setup(rest.control);
    t.setAudioPending(true);
    t.tools.onToolCall([{ id: 'fc-1', name: 'transfer_call', args: {} }]);
    await settle();
    expect(t.responses[0]?.response).toEqual({ output: expect.objectContaining({ status: 'transferring' }) });
    t.tools.onModelTurnComplete();
    await settle();
    expect(rest.requests).toEqual([]);
    t.setAudioPending(false);
    t.tools.onAgentAudioPlayed();
    await settle();
    expect(rest.requests).toEqual([{ kind: 'redirect', callSid: CALL_SID, twiml: dialTwiml(TRANSFER_TO, DEFAULT_CUES.transferNotAnswered) }]);
    expect(t.ended).toEqual(['transferred']);
    expect(JSON.stringify(t.lines)).not.toContain('5550199');
  });

  it('keeps the caller with the agent, and says so to the model, when the transfer fails', async () => {
    let fail = true;
    const rest = recordingCallControl(async () => {
      if (fail) throw new TwilioRestError('Twilio could not be reached (ECONNREFUSED)', undefined, undefined);
      return 'updated';
    });
    const t = setup(rest.control);
    t.tools.onToolCall([{ id: 'fc-1', name: 'transfer_call', args: {} }]);
    await settle();
    t.tools.onModelTurnComplete();
    await settle();
    expect(t.ended).toEqual([]);
    expect(t.texts).toEqual([expect.stringMatching(/^The transfer did not go through/)]);
    // The model may try again, and this time it works.
    fail = false;
    t.tools.onToolCall([{ id: 'fc-2', name: 'transfer_call', args: {} }]);
    await settle();
    expect(t.responses[1]?.response).toEqual({ output: expect.objectContaining({ status: 'transferring' }) });
    t.tools.onModelTurnComplete();
    await settle();
    expect(t.ended).toEqual(['transferred']);
  });
});

describe('CallTools: keypad', () => {
  it('sends digits keyed in a row as one text after a pause', async () => {
    const t = setup(recordingCallControl().control);
    for (const digit of ['4', '2', '7']) {
      t.tools.onKeypadDigit(digit);
      await vi.advanceTimersByTimeAsync(KEYPAD_PAUSE_MS - 500);
    }
    expect(t.texts).toEqual([]);
    await vi.advanceTimersByTimeAsync(500);
    expect(t.texts).toEqual(['The caller typed on the keypad: 4 2 7']);
    // Listeners (the recorder, the browser page) see the text the model got.
    expect(t.events.filter((e) => e.type === 'textToModel')).toEqual([{ type: 'textToModel', text: 'The caller typed on the keypad: 4 2 7' }]);
    const line = t.lines.find((l) => l.msg === 'keypad input sent to the model')!;
    expect(line).toMatchObject({ keys: 3, endedBy: 'pause' });
    expect(JSON.stringify(line)).not.toMatch(/4 2 7|427/);
  });

  it('sends at once when the caller presses #', async () => {
    const t = setup(recordingCallControl().control);
    for (const digit of ['5', '7', '7', '2', '6', '9', '#']) t.tools.onKeypadDigit(digit);
    expect(t.texts).toEqual(['The caller typed on the keypad: 5 7 7 2 6 9']);
    t.tools.onKeypadDigit('#');
    expect(t.texts[1]).toBe('The caller pressed the # key on the keypad.');
    await vi.advanceTimersByTimeAsync(KEYPAD_PAUSE_MS * 2);
    expect(t.texts).toHaveLength(2);
  });

  it('drops unsent digits and stops its timers when the call ends', async () => {
    const rest = recordingCallControl();
    const t = setup(rest.control);
    t.tools.onKeypadDigit('1');
    t.tools.onToolCall([{ id: 'fc-1', name: 'end_call', args: {} }]);
    await settle();
    t.tools.dispose();
    await vi.advanceTimersByTimeAsync(FINISH_WATCHDOG_MS * 2);
    expect(t.texts).toEqual([]);
    expect(rest.requests).toEqual([]);
  });
});
