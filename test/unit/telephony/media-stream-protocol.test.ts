import { describe, expect, it } from 'vitest';
import { clearMessage, markMessage, mediaMessage, parseTwilioMessage } from '../../../src/telephony/media-stream-protocol.js';

const STREAM_SID = `MZ${'1'.repeat(32)}`;
const CALL_SID = `CA${'2'.repeat(32)}`;
const ACCOUNT_SID = `AC${'3'.repeat(32)}`;

const start = {
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: ACCOUNT_SID,
    streamSid: STREAM_SID,
    callSid: CALL_SID,
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    customParameters: { streamToken: 'abc' },
  },
  streamSid: STREAM_SID,
};
const media = { event: 'media', sequenceNumber: '4', media: { track: 'inbound', chunk: '2', timestamp: '5', payload: '/////w==' }, streamSid: STREAM_SID };

describe('parseTwilioMessage', () => {
  it('parses every event Twilio sends on a bidirectional stream', () => {
    const messages = [
      { event: 'connected', protocol: 'Call', version: '1.0.0' },
      start,
      media,
      { event: 'mark', sequenceNumber: '5', streamSid: STREAM_SID, mark: { name: 't1:m1' } },
      { event: 'dtmf', sequenceNumber: '6', streamSid: STREAM_SID, dtmf: { track: 'inbound_track', digit: '7' } },
      { event: 'stop', sequenceNumber: '7', streamSid: STREAM_SID, stop: { accountSid: ACCOUNT_SID, callSid: CALL_SID } },
    ];
    const events = messages.map((message) => {
      const parsed = parseTwilioMessage(JSON.stringify(message));
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.message.event;
    });
    expect(events).toEqual(['connected', 'start', 'media', 'mark', 'dtmf', 'stop']);
  });

  it('turns numeric strings into numbers and keeps custom parameters', () => {
    const parsed = parseTwilioMessage(JSON.stringify(media));
    expect(parsed).toMatchObject({ ok: true, message: { sequenceNumber: 4, media: { chunk: 2, timestamp: 5, audio: Buffer.from([0xff, 0xff, 0xff, 0xff]) } } });
    const parsedStart = parseTwilioMessage(JSON.stringify(start));
    expect(parsedStart).toMatchObject({ ok: true, message: { start: { callSid: CALL_SID, customParameters: { streamToken: 'abc' } } } });
  });

  it.each([
    ['not JSON', '{"event":'],
    ['a JSON array', '[1,2]'],
    ['an unknown event', JSON.stringify({ event: 'hello' })],
    ['media without payload', JSON.stringify({ ...media, media: { track: 'inbound', chunk: '1', timestamp: '1' } })],
    ['media with a numeric sequenceNumber', JSON.stringify({ ...media, sequenceNumber: 4 })],
    ['media with a non-base64 payload', JSON.stringify({ ...media, media: { ...media.media, payload: 'not base64!' } })],
    ['media with a huge payload', JSON.stringify({ ...media, media: { ...media.media, payload: 'A'.repeat(20_000) } })],
    ['start with a bad CallSid', JSON.stringify({ ...start, start: { ...start.start, callSid: 'CA123' } })],
    ['start whose stream SIDs differ', JSON.stringify({ ...start, streamSid: `MZ${'9'.repeat(32)}` })],
    ['start with non-string custom parameters', JSON.stringify({ ...start, start: { ...start.start, customParameters: { streamToken: 1 } } })],
    ['dtmf with a non-keypad digit', JSON.stringify({ event: 'dtmf', sequenceNumber: '6', streamSid: STREAM_SID, dtmf: { track: 'inbound_track', digit: 'x' } })],
    ['a mark without a name', JSON.stringify({ event: 'mark', sequenceNumber: '5', streamSid: STREAM_SID, mark: {} })],
  ])('rejects %s without throwing', (_label, text) => {
    const parsed = parseTwilioMessage(text);
    expect(parsed.ok).toBe(false);
  });
});

describe('parseTwilioMessage on media frames', () => {
  /** The same JSON with a space after the first brace: never the canonical text, so it takes the general JSON.parse path. */
  const viaGeneralPath = (text: string) => parseTwilioMessage(`{ ${text.slice(1)}`);
  const canonical = (overrides: Record<string, string> = {}) => JSON.stringify({ ...media, media: { ...media.media, ...overrides } });

  it.each([
    ['a canonical frame', canonical()],
    ['a 20 ms frame of silence', canonical({ payload: Buffer.alloc(160, 0xff).toString('base64'), chunk: '999999', timestamp: '123456789012345' })],
    ['an empty payload', canonical({ payload: '' })],
    ['a track with unicode', canonical({ track: 'inbound ☎' })],
    ['a track with an escaped quote', canonical({ track: 'in"bound' })],
    ['a track with a control character', canonical({ track: 'in\tbound' })],
    ['a raw control character in the track (invalid JSON)', canonical().replace('inbound', 'in\u0001bound')],
    ['a payload of bad length', canonical({ payload: 'AAA' })],
    ['a payload with bad characters', canonical({ payload: 'AA-A' })],
    ['a payload over the cap', canonical({ payload: 'A'.repeat(16_388) })],
    ['a counter that is too long', canonical({ chunk: '1'.repeat(16) })],
    ['a negative counter', canonical({ timestamp: '-5' })],
    ['a lowercase stream SID prefix', JSON.stringify({ ...media, streamSid: `mz${'1'.repeat(32)}` })],
    ['fields in another order', JSON.stringify({ event: 'media', streamSid: STREAM_SID, sequenceNumber: '4', media: media.media })],
  ])('gives the same result for %s on the fast and the general path', (_label, text) => {
    expect(parseTwilioMessage(text)).toEqual(viaGeneralPath(text));
  });

  it('reads a canonical frame exactly', () => {
    expect(parseTwilioMessage(canonical())).toEqual({
      ok: true,
      message: { event: 'media', sequenceNumber: 4, streamSid: STREAM_SID, media: { track: 'inbound', chunk: 2, timestamp: 5, audio: Buffer.from([0xff, 0xff, 0xff, 0xff]) } },
    });
  });

  it('still rejects trailing garbage after a canonical frame', () => {
    expect(parseTwilioMessage(`${canonical()}x`).ok).toBe(false);
    expect(parseTwilioMessage(`${canonical()}\n`).ok).toBe(true); // JSON allows trailing whitespace
  });
});

describe('outbound messages', () => {
  it('are exactly the JSON Twilio documents', () => {
    expect(JSON.parse(mediaMessage(STREAM_SID, new Uint8Array(3)))).toEqual({ event: 'media', streamSid: STREAM_SID, media: { payload: 'AAAA' } });
    expect(JSON.parse(mediaMessage(STREAM_SID, Uint8Array.of(0xff, 0x7f, 0x00)))).toEqual({ event: 'media', streamSid: STREAM_SID, media: { payload: '/38A' } });
    expect(JSON.parse(markMessage(STREAM_SID, 't2:m9'))).toEqual({ event: 'mark', streamSid: STREAM_SID, mark: { name: 't2:m9' } });
    expect(JSON.parse(clearMessage(STREAM_SID))).toEqual({ event: 'clear', streamSid: STREAM_SID });
  });
});
