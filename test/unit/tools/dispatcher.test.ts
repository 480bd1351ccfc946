import { describe, expect, it } from 'vitest';
import type { ToolAnswer } from '../../../src/model/realtime-model.js';
import { MAX_OUTPUT_JSON_CHARS, ToolAbortedError, ToolDispatcher } from '../../../src/tools/dispatcher.js';
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
    const errors = sent.map((r) => ('error' in r.response ? r.response.error : ''));
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
    expect(sent).toEqual([{ id: 'x', name: 'launch_rockets', response: { error: 'There is no tool named "launch_rockets". Available tools: echo, other.' } }]);
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
    expect('error' in sent[0]!.response && sent[0]!.response.error).toMatch(/hangs did not finish within 0\.1 seconds/);
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
    const { dispatcher, sent, until, lines } = setup([leaky, rejecting, polite]);
    dispatcher.dispatch([
      { id: '1', name: 'leaky', args: {} },
      { id: '2', name: 'rejecting', args: {} },
      { id: '3', name: 'polite', args: {} },
    ]);
    await until(3);
    const byId = Object.fromEntries(sent.map((r) => [r.id, r.response]));
    expect(byId['1']).toEqual({ error: expect.stringMatching(/^leaky failed because of an internal error/) });
    expect(JSON.stringify(byId['1'])).not.toContain('SQLITE');
    expect(byId['2']).toEqual({ error: expect.stringMatching(/^rejecting failed because of an internal error/) });
    expect(byId['3']).toEqual({ error: 'No booking has that code.' });
    expect(lines.find((l) => l.tool === 'leaky')).toMatchObject({ outcome: 'failed', level: 50, err: { message: 'SQLITE_CORRUPT at /srv/secret/path.db' } });
    expect(lines.find((l) => l.tool === 'polite')).toMatchObject({ outcome: 'tool-error' });
  });

  it('answers explicitly when a tool returns nothing, and refuses results that are not small JSON', async () => {
    const quiet = defineTool({ name: 'quiet', description: 'Returns nothing.', behavior: 'BLOCKING', handler: () => undefined });
    const bigint = defineTool({ name: 'bigint', description: 'Not JSON.', behavior: 'BLOCKING', handler: () => ({ n: 10n }) });
    const huge = defineTool({ name: 'huge', description: 'Too big.', behavior: 'BLOCKING', handler: () => 'x'.repeat(MAX_OUTPUT_JSON_CHARS) });
    const { dispatcher, sent, until } = setup([quiet, bigint, huge]);
    dispatcher.dispatch([
      { id: '1', name: 'quiet', args: {} },
      { id: '2', name: 'bigint', args: {} },
      { id: '3', name: 'huge', args: {} },
    ]);
    await until(3);
    const byId = Object.fromEntries(sent.map((r) => [r.id, r.response]));
    expect(byId['1']).toEqual({ output: { done: true } });
    expect(byId['2']).toHaveProperty('error');
    expect(byId['3']).toHaveProperty('error');
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
