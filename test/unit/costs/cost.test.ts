import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callCost } from '../../../src/costs/call-cost.js';
import { readPriceTableFile } from '../../../src/costs/price-table-file.js';
import { callRates, DEFAULT_PRICES } from '../../../src/costs/prices.js';
import { UsageMeter } from '../../../src/costs/usage-meter.js';
import type { UsageReport } from '../../../src/model/realtime-model.js';

/** A report as the Gemini adapter makes it: prompt = the whole context read for the response. */
function report(prompt: { text?: number; audio?: number }, response: { text?: number; audio?: number }, extra: Partial<UsageReport> = {}): UsageReport {
  const promptTotal = (prompt.text ?? 0) + (prompt.audio ?? 0);
  const responseTotal = (response.text ?? 0) + (response.audio ?? 0);
  return { prompt: { ...prompt, total: promptTotal }, response: { ...response, total: responseTotal }, totalTokens: promptTotal + responseTotal, ...extra };
}

const NO_AUDIO = { toModel: 0, fromModel: 0 };

describe('UsageMeter', () => {
  it('adds one report per response (Gemini: beside each turnComplete)', () => {
    const meter = new UsageMeter('perResponse');
    meter.add(report({ text: 400 }, { audio: 100 })); // greeting
    meter.add(report({ text: 400, audio: 250 }, { audio: 150 })); // context: greeting reply + 6 s of caller audio
    meter.add(report({ text: 420, audio: 500 }, { audio: 80 }, { thinkingTokens: 30, toolUsePromptTokens: 12 }));
    const tokens = meter.tokens(NO_AUDIO, 25);
    expect(tokens).toEqual({
      input: { text: 1220, audio: 750, other: 0 },
      output: { text: 0, audio: 330 },
      thinking: 30,
      toolUsePrompt: 12,
      cached: 0,
      total: 1220 + 750 + 330 + 30 + 12,
      source: 'reported',
      reports: 3,
    });
  });

  it('counts a response reported again as it grows once (usage sent periodically)', () => {
    const meter = new UsageMeter('perResponse');
    // One response, reported with every chunk: same prompt, response so far.
    for (const audio of [25, 50, 75, 100]) meter.add(report({ text: 400 }, { audio }));
    // The next response: the context grew by the first reply.
    for (const audio of [30, 60]) meter.add(report({ text: 400, audio: 100 }, { audio }));
    const tokens = meter.tokens(NO_AUDIO, 25);
    expect(tokens.input).toEqual({ text: 800, audio: 100, other: 0 });
    expect(tokens.output).toEqual({ text: 0, audio: 160 });
    expect(tokens.reports).toBe(6);
  });

  it('keeps the last running total of each connection (a total that drops is a new counter)', () => {
    const meter = new UsageMeter('runningTotal');
    meter.add(report({ text: 100 }, { audio: 50 }));
    meter.add(report({ text: 300, audio: 200 }, { audio: 120 })); // the conversation so far
    meter.add(report({ text: 90 }, { audio: 10 })); // after a session switch: counting from zero again
    meter.add(report({ text: 150, audio: 40 }, { audio: 60 }));
    const tokens = meter.tokens(NO_AUDIO, 25);
    expect(tokens.input).toEqual({ text: 450, audio: 240, other: 0 });
    expect(tokens.output.audio).toBe(180);
    expect(tokens.total).toBe(450 + 240 + 180);
  });

  it('estimates from the audio seconds each way when nothing was reported, and says so', () => {
    const tokens = new UsageMeter('none').tokens({ toModel: 62.5, fromModel: 20.02 }, 25);
    expect(tokens).toMatchObject({ input: { text: 0, audio: 1563, other: 0 }, output: { text: 0, audio: 501 }, total: 2064, source: 'estimated', reports: 0 });
    // A model that declares reports but sends none is estimated the same way.
    expect(new UsageMeter('perResponse').tokens({ toModel: 4, fromModel: 2 }, 25)).toMatchObject({ total: 150, source: 'estimated' });
  });

  it('counts prompt tokens no modality detail covers as other input, and a response without details as text', () => {
    const meter = new UsageMeter('perResponse');
    // The 3.8 Live receipt shape: 522 prompt tokens of which 332 text + 165 audio; thinking reported apart.
    meter.add({ prompt: { text: 332, audio: 165, total: 522 }, response: { total: 42 }, thinkingTokens: 136, totalTokens: 564 });
    expect(meter.tokens(NO_AUDIO, 25)).toMatchObject({ input: { text: 332, audio: 165, other: 25 }, output: { text: 42, audio: 0 }, thinking: 136, total: 700 });
  });
});

describe('callCost', () => {
  const tokens = { input: { text: 1_000_000, audio: 2_000_000, other: 0 }, output: { text: 100_000, audio: 500_000 }, thinking: 50_000, toolUsePrompt: 0, cached: 0, total: 0, source: 'reported' as const, reports: 9 };

  it('prices tokens per modality and the phone leg per started minute (hand-computed)', () => {
    const rates = callRates(DEFAULT_PRICES, 'gemini-3.8-live', 'inbound');
    const cost = callCost(tokens, 61_000, rates);
    // model: 1 M text in × 0.75 + 2 M audio in × 3 + 0.15 M text out (thinking included) × 4.5 + 0.5 M audio out × 12
    const model = 0.75 + 6 + 0.675 + 6;
    // 61 s is 2 started minutes of inbound voice (0.0085) and Media Streams (0.0044)
    const telephony = 2 * (0.0085 + 0.0044);
    expect(cost).toEqual({ currency: 'USD', model, telephony: Math.round(telephony * 1e6) / 1e6, total: Math.round((model + telephony) * 1e6) / 1e6, estimated: false, priceModel: 'gemini-3.8-live', pricesAsOf: '2026-09-30' });
  });

  it('charges no phone leg for a browser call, the outbound rate for a call we placed, and names an unpriced model', () => {
    expect(callCost(tokens, 600_000, callRates(DEFAULT_PRICES, 'models/gemini-3.8-live', 'browser')).telephony).toBe(0);
    expect(callCost(tokens, 60_000, callRates(DEFAULT_PRICES, 'gemini-3.8-live', 'outbound')).telephony).toBeCloseTo(0.014 + 0.0044, 9);
    const unpriced = callCost(tokens, 30_000, callRates(DEFAULT_PRICES, 'my-own-model', 'inbound'));
    expect(unpriced).toMatchObject({ model: undefined, total: unpriced.telephony, priceModel: 'my-own-model', pricesAsOf: undefined });
  });

  it('marks a cost estimated when its tokens are', () => {
    const estimated = new UsageMeter('none').tokens({ toModel: 60, fromModel: 30 }, 25);
    const cost = callCost(estimated, 60_000, callRates(DEFAULT_PRICES, 'gemini-3.8-live', 'browser'));
    // 1500 audio tokens in × $3/M + 750 out × $12/M
    expect(cost).toMatchObject({ model: 0.0135, total: 0.0135, estimated: true });
  });
});

describe('PRICE_TABLE_FILE', () => {
  const file = (content: string): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'prices-')), 'prices.json');
    writeFileSync(path, content);
    return path;
  };

  it('replaces the prices it names and adds models given in full', () => {
    const result = readPriceTableFile(file(JSON.stringify({ models: { 'gemini-3.8-live': { inputAudio: 2.5, asOf: '2027-01-01' }, 'my-model': { inputText: 1, inputAudio: 2, outputText: 3, outputAudio: 4 } }, telephony: { inboundPerMinute: 0.01 } })));
    if (!('table' in result)) throw new Error(result.problems.join('; '));
    expect(result.table.models['gemini-3.8-live']).toMatchObject({ inputText: 0.75, inputAudio: 2.5, outputAudio: 12, asOf: '2027-01-01', source: 'PRICE_TABLE_FILE' });
    expect(result.table.models['my-model']).toMatchObject({ inputText: 1, outputAudio: 4, asOf: 'configured' });
    expect(result.table.telephony).toMatchObject({ inboundPerMinute: 0.01, outboundPerMinute: 0.014, mediaStreamPerMinute: 0.0044 });
  });

  it('names every problem at once', () => {
    const result = readPriceTableFile(file(JSON.stringify({ models: { 'new-model': { inputText: -1 } }, telephony: { perCall: 1 }, extra: true })));
    expect('problems' in result && result.problems).toEqual([
      'PRICE_TABLE_FILE: "extra" is not a part of the price table (models, telephony, audioTokensPerSecond)',
      'PRICE_TABLE_FILE: "models.new-model.inputText" must be a number of US dollars, 0 or more',
      'PRICE_TABLE_FILE: "models.new-model" is a new entry and needs inputText, inputAudio, outputText, outputAudio',
      'PRICE_TABLE_FILE: "telephony.perCall" is not a price (inboundPerMinute, outboundPerMinute, mediaStreamPerMinute)',
    ]);
    expect(readPriceTableFile(file('{ not json'))).toMatchObject({ problems: [expect.stringMatching(/^PRICE_TABLE_FILE cannot be read as JSON/)] });
  });
});
