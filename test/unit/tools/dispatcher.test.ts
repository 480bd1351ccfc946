import { describe, expect, it } from 'vitest';
import type { ToolAnswer } from '../../../src/model/realtime-model.js';
import { DONE_OUTPUT, MAX_OUTPUT_JSON_CHARS, ToolAbortedError, ToolDispatcher } from '../../../src/tools/dispatcher.js';
import { defineTool, ToolError, ToolRegistry, type Tool, type ToolCallInfo } from '../../../src/tools/tool.js';
import { capturingLogger, sleep } from '../../support/log-capture.js';

const CALL: ToolCallInfo = {
  callSid: `CA${'1'.repeat(32)}`,
  direction: 'inbound',
  from: '+14155550123',
  to: '+16505550199',
  callerNumber: '+14155550123',
  agent: 'test-agent',
  finishAfterReply: () => true,
};

function setup(tools: Tool[], defaultTimeoutMs = 1_000) {
  const sent: ToolAnswer[] = [];
  const { log, lines, text } = capturingLogger();
  const dispatcher = new ToolDispatcher({ tools: new ToolRegistry(tools), call: CALL, log, send: (response) => sent.push(response), defaultTimeoutMs });
  const until = async (count: number, timeoutMs = 2_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (sent.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${sent.length} of ${count} responses`);
      await sleep(5);
    }
  };
  return { dispatcher, sent, lines, text, until };
}

const echo = defineTool({
  name: 'echo',
  description: 'Echoes its input.',
  behavior: 'BLOCKING',
  parameters: {
    type: 'object',
    properties: {
      word: { type: 'string', minLength: 1, maxLength: 10 },
      count: { type: 'integer', minimum: 1, maximum: 5 },
      mood: { type: 'string', enum: ['happy', 'sad'] },
    },
    required: ['word'],
  },
  handler: ({ word, count, mood }) => ({ said: word.repeat(count ?? 1), mood: mood ?? 'neutral' }),
});

function delayed(name: string, ms: number, onSignal?: (signal: AbortSignal) => void): Tool {
  return defineTool({
    name,
    description: `Answers after ${ms} ms.`,
    behavior: 'BLOCKING',
    handler: async (_args, { signal }) => {
      onSignal?.(signal);
      await sleep(ms);
      return { tool: name };
    },
  });
}

describe('ToolDispatcher', () => {
  it('answers a valid call with its id, name and output', async () => {
    const { dispatcher, sent, until } = setup([echo]);
    dispatcher.dispatch([{ id: 'function-call-1', name: 'echo', args: { word: 'hi', count: 2 } }]);
    await until(1);
    expect(sent).toEqual([{ id: 'function-call-1', name: 'echo', response: { output: { said: 'hihi', mood: 'neutral' } } }]);
  });

  it('runs the calls of one toolCall in parallel and answers every one', async () => {
    const { dispatcher, sent, until } = setup([delayed('slow_a', 150), delayed('slow_b', 150), echo]);
    const started = performance.now();
    dispatcher.dispatch([
      { id: 'a', name: 'slow_a', args: {} },
      { id: 'b', name: 'slow_b', args: {} },
      { id: 'c', name: 'echo', args: { word: 'x' } },
      { id: 'd', name: 'no_such_tool', args: {} },
    ]);
    await until(4);
    expect(performance.now() - started).toBeLessThan(280); // sequential would take 300 ms
    expect(sent.map((r) => r.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const response of sent) expect(response.name).toBe({ a: 'slow_a', b: 'slow_b', c: 'echo', d: 'no_such_tool' }[response.id]);
    // The quick answers did not wait for the slow ones.
    expect(sent.slice(0, 2).map((r) => r.id).sort()).toEqual(['c', 'd']);
  });

  it('refuses invalid arguments before the handler runs, naming each problem', async () => {
    let ran = false;
    const guarded = defineTool({ name: 'guarded', description: 'x', behavior: 'BLOCKING', parameters: echo.parameters, handler: () => (ran = true) });
    const { dispatcher, sent } = setup([echo, guarded]);
    dispatcher.dispatch([
      { id: '1', name: 'echo', args: { count: 9 } },
      { id: '2', name: 'echo', args: { word: 42, mood: 'angry', extra: true } },
      { id: '3', name: 'echo', args: { word: 'way too long a word', count: 2.5 } },
    ]);
    expect(sent).toHaveLength(3); // refusals are answered at once
    const failures = sent.map((r) => ('error' in r.response ? r.response.error : undefined));
    for (const failure of failures) expect(failure).toMatchObject({ status: 'invalid_argument', retryable: false, hint: expect.stringContaining('corrected arguments') });
    const errors = failures.map((failure) => failure?.message ?? '');
    expect(errors[0]).toMatch(/^Invalid arguments for echo: /);
    expect(errors[0]).toContain('word is required');
    expect(errors[0]).toContain('count must be at most 5 (got 9)');
    expect(errors[1]).toContain('word must be a string (got 42)');
    expect(errors[1]).toContain('mood must be one of "happy", "sad" (got "angry")');
    expect(errors[1]).toContain('extra is not a parameter of this tool');
    expect(errors[2]).toContain('word must be at most 10 characters long');
    expect(errors[2]).toContain('count must be a whole number (got 2.5)');
    dispatcher.dispatch([{ id: '4', name: 'guarded', args: {} }]);
    expect(ran).toBe(false);
  });

  it('tells the model which tools exist when it asks for an unknown one', () => {
    const { dispatcher, sent, lines } = setup([echo, delayed('other', 1)]);
    dispatcher.dispatch([{ id: 'x', name: 'launch_rockets', args: { target: '+14155550123' } }]);
    expect(sent).toEqual([
      { id: 'x', name: 'launch_rockets', response: { error: { status: 'unknown_tool', retryable: false, message: 'There is no tool named "launch_rockets".', hint: 'Use one of: echo, other.' } } },
    ]);
    const line = lines.find((l) => l.tool === 'launch_rockets')!;
    expect(line).toMatchObject({ outcome: 'unknown-tool', argNames: ['target'] });
    expect(JSON.stringify(line)).not.toContain('5550123');
  });

  it('stops a tool at its timeout: an error answer, an aborted signal, and the late result dropped', async () => {
    let signal: AbortSignal | undefined;
    const { dispatcher, sent, until, lines } = setup([delayed('hangs', 300, (s) => (signal = s))], 60);
    dispatcher.dispatch([{ id: 't', name: 'hangs', args: {} }]);
    await until(1);
    expect(sent[0]).toMatchObject({ id: 't', name: 'hangs' });
    expect('error' in sent[0]!.response && sent[0]!.response.error).toMatchObject({ status: 'timeout', retryable: true, message: expect.stringMatching(/hangs did not finish within 0\.1 seconds/) });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(ToolAbortedError);
    expect((signal?.reason as ToolAbortedError).why).toBe('timeout');
    await sleep(350);
    expect(sent).toHaveLength(1);
    expect(lines.find((l) => l.tool === 'hangs')).toMatchObject({ outcome: 'timeout', level: 40 });
  });

  it('lets a tool set its own timeout', async () => {
    const patient = defineTool({ name: 'patient', description: 'Slow but allowed.', behavior: 'BLOCKING', timeoutMs: 400, handler: async () => (await sleep(150), 'ok') });
    const { dispatcher, sent, until } = setup([patient], 50);
    dispatcher.dispatch([{ id: 'p', name: 'patient', args: {} }]);
    await until(1);
    expect(sent[0]?.response).toEqual({ output: 'ok' });
  });

  it('cancels running calls on toolCallCancellation and answers nothing for them', async () => {
    const signals: AbortSignal[] = [];
    const { dispatcher, sent, lines, until } = setup([delayed('slow', 120, (s) => signals.push(s)), delayed('quick', 10)]);
    dispatcher.dispatch([
      { id: 'keep', name: 'quick', args: {} },
      { id: 'drop', name: 'slow', args: {} },
    ]);
    dispatcher.cancel(['drop', 'never-heard-of-it']);
    expect(signals[0]?.aborted).toBe(true);
    expect((signals[0]?.reason as ToolAbortedError).why).toBe('cancelled');
    await until(1);
    await sleep(200);
    expect(sent.map((r) => r.id)).toEqual(['keep']);
    expect(dispatcher.runningCount).toBe(0);
    expect(lines.find((l) => l.functionCallId === 'drop')).toMatchObject({ outcome: 'cancelled' });
  });

  it('turns a thrown error into a safe message, and a ToolError into its own message', async () => {
    const leaky = defineTool({
      name: 'leaky',
      description: 'Fails.',
      behavior: 'BLOCKING',
      handler: () => {
        throw new Error('SQLITE_CORRUPT at /srv/secret/path.db');
      },
    });
    const rejecting = defineTool({ name: 'rejecting', description: 'Rejects.', behavior: 'BLOCKING', handler: () => Promise.reject('just a string') });
    const polite = defineTool({ name: 'polite', description: 'Refuses.', behavior: 'BLOCKING', handler: async () => { throw new ToolError('No booking has that code.'); } });
    const busy = defineTool({ name: 'busy', description: 'Busy.', behavior: 'BLOCKING', handler: () => { throw new ToolError('The booking system is busy.', { retryable: true, hint: 'Try once more in a moment.' }); } });
    const { dispatcher, sent, until, lines } = setup([leaky, rejecting, polite, busy]);
    dispatcher.dispatch([
      { id: '1', name: 'leaky', args: {} },
      { id: '2', name: 'rejecting', args: {} },
      { id: '3', name: 'polite', args: {} },
      { id: '4', name: 'busy', args: {} },
    ]);
    await until(4);
    const byId = Object.fromEntries(sent.map((r) => [r.id, r.response]));
    const internal = { status: 'error', retryable: false, hint: 'Do not retry it; apologise to the caller and offer another way to help.' };
    expect(byId['1']).toEqual({ error: { ...internal, message: 'leaky failed because of an internal error.' } });
    expect(JSON.stringify(byId['1'])).not.toContain('SQLITE');
    expect(byId['2']).toEqual({ error: { ...internal, message: 'rejecting failed because of an internal error.' } });
    expect(byId['3']).toEqual({ error: { status: 'error', retryable: false, message: 'No booking has that code.', hint: 'Tell the caller; calling it again with the same arguments will not help.' } });
    expect(byId['4']).toEqual({ error: { status: 'error', retryable: true, message: 'The booking system is busy.', hint: 'Try once more in a moment.' } });
    expect(lines.find((l) => l.tool === 'leaky')).toMatchObject({ outcome: 'failed', level: 50, err: { message: 'SQLITE_CORRUPT at /srv/secret/path.db' } });
    expect(lines.find((l) => l.tool === 'polite')).toMatchObject({ outcome: 'tool-error' });
  });

  it('answers explicitly when a tool returns nothing or finds nothing, and refuses results that are not small JSON', async () => {
    const quiet = defineTool({ name: 'quiet', description: 'Returns nothing.', behavior: 'BLOCKING', handler: () => undefined });
    const bigint = defineTool({ name: 'bigint', description: 'Not JSON.', behavior: 'BLOCKING', handler: () => ({ n: 10n }) });
    const huge = defineTool({ name: 'huge', description: 'Too big.', behavior: 'BLOCKING', handler: () => 'x'.repeat(MAX_OUTPUT_JSON_CHARS) });
    const empties = [null, [], {}, ''].map((value, i) => defineTool({ name: `empty_${i}`, description: 'Finds nothing.', behavior: 'BLOCKING', handler: () => value }));
    const { dispatcher, sent, until } = setup([quiet, bigint, huge, ...empties]);
    dispatcher.dispatch([
      { id: '1', name: 'quiet', args: {} },
      { id: '2', name: 'bigint', args: {} },
      { id: '3', name: 'huge', args: {} },
      ...empties.map((tool) => ({ id: tool.name, name: tool.name, args: {} })),
    ]);
    await until(7);
    const byId = Object.fromEntries(sent.map((r) => [r.id, r.response]));
    expect(byId['1']).toEqual({ output: DONE_OUTPUT });
    expect(byId['2']).toHaveProperty('error');
    expect(byId['3']).toHaveProperty('error');
    for (const tool of empties) expect(byId[tool.name]).toEqual({ output: { status: 'no_results', retryable: false, hint: expect.stringContaining('Nothing was found') } });
  });

  it('answers a call repeated within one turn from the first result, without running the tool again; a new turn runs it again', async () => {
    let runs = 0;
    const lookup = defineTool({
      name: 'lookup',
      description: 'Looks up.',
      behavior: 'NON_BLOCKING',
      scheduling: 'whenIdle',
      parameters: { type: 'object', properties: { date: { type: 'string' }, size: { type: 'integer' } } },
      handler: async ({ date }) => (runs++, await sleep(30), { date, free: [] as string[], note: 'fully booked' }),
    });
    const { dispatcher, sent, until, lines } = setup([lookup]);
    dispatcher.dispatch([{ id: 'a', name: 'lookup', args: { date: 'friday', size: 2 } }]);
    dispatcher.dispatch([{ id: 'b', name: 'lookup', args: { size: 2, date: 'friday' } }]); // the same arguments, in another order, while the first runs
    await until(2);
    dispatcher.dispatch([{ id: 'c', name: 'lookup', args: { date: 'friday', size: 2 } }]); // after the first answered
    dispatcher.dispatch([{ id: 'd', name: 'lookup', args: { date: 'saturday', size: 2 } }]); // other arguments: a call of its own
    await until(4);
    expect(runs).toBe(2);
    expect(sent.map((answer) => answer.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(sent[1]!.response).toEqual(sent[0]!.response);
    expect(sent[2]!.response).toEqual(sent[0]!.response);
    for (const answer of sent) expect(answer.scheduling).toBe('whenIdle'); // the tool's scheduling rides on every answer
    expect(dispatcher.repeatsAnswered).toBe(2);
    expect(lines.filter((line) => line.outcome === 'repeat')).toHaveLength(2);
    dispatcher.newTurn();
    dispatcher.dispatch([{ id: 'e', name: 'lookup', args: { date: 'friday', size: 2 } }]);
    await until(5);
    expect(runs).toBe(3);
  });

  it('runs a repeat again when the first failure said a retry could help, and serves a repeat whose first was cancelled', async () => {
    let runs = 0;
    const flaky = defineTool({ name: 'flaky', description: 'Fails once.', behavior: 'BLOCKING', handler: () => {
      runs++;
      if (runs === 1) throw new ToolError('Busy.', { retryable: true });
      return { ok: 'yes' };
    } });
    const slow = delayed('slow', 40);
    const { dispatcher, sent, until } = setup([flaky, slow]);
    dispatcher.dispatch([{ id: '1', name: 'flaky', args: {} }]);
    await until(1);
    dispatcher.dispatch([{ id: '2', name: 'flaky', args: {} }]);
    await until(2);
    expect(runs).toBe(2);
    expect(sent[1]!.response).toEqual({ output: { ok: 'yes' } });
    dispatcher.dispatch([{ id: 's1', name: 'slow', args: {} }, { id: 's2', name: 'slow', args: {} }]);
    dispatcher.cancel(['s1']);
    await until(3);
    expect(sent[2]).toMatchObject({ id: 's2', response: { output: { tool: 'slow' } } });
    expect(dispatcher.repeatsAnswered).toBe(0);
  });

  it('logs tool, duration and outcome, with sensitive arguments redacted and phone numbers masked', async () => {
    const book = defineTool({
      name: 'book',
      description: 'Books.',
      behavior: 'BLOCKING',
      parameters: {
        type: 'object',
        properties: { guest: { type: 'string', sensitive: true }, note: { type: 'string' }, size: { type: 'integer' } },
        required: ['guest'],
      },
      handler: async () => (await sleep(20), { ok: true }),
    });
    const { dispatcher, until, lines, text } = setup([book]);
    dispatcher.dispatch([{ id: 'b', name: 'book', args: { guest: 'Dana Whitfield', note: 'call me on +1 415 555 0123', size: 4 } }]);
    await until(1);
    const line = lines.find((l) => l.tool === 'book')!;
    expect(line).toMatchObject({ msg: 'tool call finished', outcome: 'ok', functionCallId: 'b', args: { guest: '[redacted]', size: 4 } });
    expect(line.durationMs).toBeGreaterThanOrEqual(15);
    expect(text()).not.toContain('Dana');
    expect(text()).not.toMatch(/555 ?0123/);
  });

  it('stops everything when the call ends and sends nothing afterwards', async () => {
    const signals: AbortSignal[] = [];
    const { dispatcher, sent } = setup([delayed('slow', 50, (s) => signals.push(s))]);
    dispatcher.dispatch([{ id: '1', name: 'slow', args: {} }]);
    dispatcher.close();
    expect((signals[0]?.reason as ToolAbortedError).why).toBe('call-ended');
    dispatcher.dispatch([{ id: '2', name: 'slow', args: {} }]);
    await sleep(100);
    expect(sent).toEqual([]);
  });

  it('abandons running calls when their session is gone, but keeps serving new ones', async () => {
    const { dispatcher, sent, until } = setup([delayed('slow', 40)]);
    dispatcher.dispatch([{ id: 'old', name: 'slow', args: {} }]);
    dispatcher.abandon();
    dispatcher.dispatch([{ id: 'new', name: 'slow', args: {} }]);
    await until(1);
    await sleep(60);
    expect(sent.map((r) => r.id)).toEqual(['new']);
  });

  it('survives a send that throws, and ignores a repeated id that is still running', async () => {
    const { log, lines } = capturingLogger();
    let calls = 0;
    const dispatcher = new ToolDispatcher({
      tools: new ToolRegistry([delayed('slow', 20)]),
      call: CALL,
      log,
      defaultTimeoutMs: 1_000,
      send: () => {
        calls++;
        throw new Error('socket closed');
      },
    });
    dispatcher.dispatch([{ id: 'same', name: 'slow', args: {} }]);
    dispatcher.dispatch([{ id: 'same', name: 'slow', args: {} }]);
    await sleep(60);
    expect(calls).toBe(1);
    expect(lines.some((l) => l.msg === 'could not send a tool response to the model')).toBe(true);
    expect(lines.some((l) => l.msg.includes('repeated a function call id'))).toBe(true);
  });
});
