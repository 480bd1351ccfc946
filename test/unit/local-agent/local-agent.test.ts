import { describe, expect, it } from 'vitest';
import { DEFAULT_CUES, KEYPAD_TEXT_PREFIX } from '../../../src/agents/agent.js';
import { describeToolAnswer, echoReply, LOCAL_AGENT_LINES, localGreeting, MAX_ECHO_MS, replyToText } from '../../../src/local-agent/local-agent.js';
import { resample16kTo24k } from '../../../src/local-agent/resample-16k-to-24k.js';

function tone(frequency: number, rate: number, seconds: number): Int16Array {
  return Int16Array.from({ length: rate * seconds }, (_, i) => Math.round(10_000 * Math.sin((2 * Math.PI * frequency * i) / rate)));
}

function amplitudeAt(signal: Int16Array, frequency: number, rate: number, skip: number): number {
  let re = 0;
  let im = 0;
  for (let i = skip; i < signal.length - skip; i++) {
    re += signal[i]! * Math.cos((2 * Math.PI * frequency * i) / rate);
    im += signal[i]! * Math.sin((2 * Math.PI * frequency * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (signal.length - 2 * skip);
}

describe('local agent', () => {
  it('resamples 16 kHz to 24 kHz: length ×1.5, phone band kept, no images, no added delay', () => {
    for (const frequency of [300, 1_000, 3_400]) {
      const out = resample16kTo24k(tone(frequency, 16_000, 1));
      expect(out.length).toBe(24_000);
      expect(Math.abs(20 * Math.log10(amplitudeAt(out, frequency, 24_000, 100) / 10_000))).toBeLessThan(0.1);
      // The image of f around 16 kHz would land at 16 kHz - f.
      expect(20 * Math.log10(amplitudeAt(out, 16_000 - frequency, 24_000, 100) / 10_000 + 1e-9)).toBeLessThan(-60);
    }
    const click = new Int16Array(1_600);
    click[800] = 20_000;
    const out = resample16kTo24k(click);
    const peak = out.reduce((best, value, index) => (Math.abs(value) > Math.abs(out[best]!) ? index : best), 0);
    expect(Math.abs(peak - 1_200)).toBeLessThanOrEqual(1);
  });

  it('plays the caller turn back (at most MAX_ECHO_MS), then its canned line', () => {
    const reply = echoReply(tone(500, 16_000, 2));
    expect(reply.audio.length).toBeGreaterThan(48_000);
    expect(reply.text).toContain(LOCAL_AGENT_LINES.afterEcho);
    const long = echoReply(new Int16Array(16 * 20_000).fill(1_000));
    expect(long.audio.length).toBeLessThan((MAX_ECHO_MS / 1000) * 24_000 + 24_000 * 3);
  });

  it('greets on the first instruction, naming the agent it stands in for and showing the instruction it cannot follow', () => {
    const fresh = { agentName: 'dental', codeTool: 'find_booking', greeted: false };
    expect(replyToText(DEFAULT_CUES.inboundGreeting, fresh).text).toBe(`[greeting instruction] ${DEFAULT_CUES.inboundGreeting} ${localGreeting('dental')}`);
    const greeting = 'Thank the caller for calling Bright Smile and ask how you can help.';
    expect(replyToText(greeting, { ...fresh, codeTool: undefined }).text).toBe(`[greeting instruction] ${greeting} ${localGreeting('dental')}`);
    expect(localGreeting('dental')).toContain('local stand-in for agent dental');
    // Any later instruction is shown too, with the stand-in's own words; the watchdog's cues get their lines.
    expect(replyToText('Offer the caller a callback.', { ...fresh, greeted: true }).text).toBe(`[instruction] Offer the caller a callback. ${LOCAL_AGENT_LINES.other}`);
    expect(replyToText(DEFAULT_CUES.silenceCheckIn, fresh).text).toBe(LOCAL_AGENT_LINES.checkIn);
    expect(replyToText(DEFAULT_CUES.silenceGoodbye, fresh).text).toBe(LOCAL_AGENT_LINES.goodbye);
    expect(replyToText(DEFAULT_CUES.stall, fresh).text).toBe(LOCAL_AGENT_LINES.other);
  });

  it("turns keys into a call of the agent's code tool whose answer it reads out", () => {
    const context = { agentName: 'restaurant', codeTool: 'find_booking', greeted: true };
    const keyed = replyToText(`${KEYPAD_TEXT_PREFIX} 5 7 7 2 6 9`, context);
    expect(keyed.toolCalls).toEqual([{ name: 'find_booking', args: { code: '577269' } }]);
    const said = keyed.afterToolAnswers!([
      { id: 'x', name: 'find_booking', response: { output: { found: true, summary: 'Dana Whitfield, a table for 4, Saturday at 7:30 PM.' } } },
    ]);
    expect(said.text).toBe('Dana Whitfield, a table for 4, Saturday at 7:30 PM.');
    // Whatever the agent's tool is called, the digits go to it.
    expect(replyToText(`${KEYPAD_TEXT_PREFIX} 4 2`, { ...context, codeTool: 'lookup_order' }).toolCalls).toEqual([{ name: 'lookup_order', args: { code: '42' } }]);
    expect(replyToText(DEFAULT_CUES.keypadHash, context).toolCalls).toEqual([{ name: 'find_booking', args: {} }]);
    // An agent without a code tool says so instead of calling anything.
    const noTool = replyToText(`${KEYPAD_TEXT_PREFIX} 1 2 3`, { ...context, codeTool: undefined });
    expect(noTool.toolCalls).toBeUndefined();
    expect(noTool.text).toBe(LOCAL_AGENT_LINES.noCodeTool);
  });

  it("reads out a tool's answer: its summary or message, else its first text fields, else its error", () => {
    expect(describeToolAnswer({ id: 'a', name: 't', response: { output: { found: false, message: 'No booking with that code.' } } })).toBe('No booking with that code.');
    expect(describeToolAnswer({ id: 'b', name: 't', response: { output: { status: 'shipped', eta: 'Monday', count: 2, gift: true } } })).toBe('The tool answered: shipped, Monday, 2.');
    expect(describeToolAnswer({ id: 'c', name: 't', response: { error: { status: 'invalid_argument', retryable: false, message: 'code must match', hint: 'Ask again.' } } })).toBe('The tool said: code must match');
    // A record one level down (or the first of a list) is read too: where tools put what they found.
    expect(describeToolAnswer({ id: 'd', name: 't', response: { output: { found: true, booking: { guestName: 'Dana Whitfield', partySize: 4 } } } })).toBe('The tool answered: Dana Whitfield, 4.');
    expect(describeToolAnswer({ id: 'e', name: 't', response: { output: { bookings: [{ summary: 'Dana, Friday at 7.' }] } } })).toBe('Dana, Friday at 7.');
    expect(describeToolAnswer({ id: 'f', name: 't', response: { output: { deeply: { nested: { a: 1 } } } } })).toBe('The tool answered, with nothing I can read out.');
    expect(describeToolAnswer(undefined)).toBe('The tool answered, with nothing I can read out.');
  });
});
