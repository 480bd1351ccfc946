import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import {
  MULAW_SILENCE_BYTE,
  mulawDecode,
  mulawDecodeSample,
  mulawEncode,
  mulawEncodeSample,
} from '../../../src/audio/mulaw.js';

const { mulaw: reference } = alawmulaw;

const allCodes = Uint8Array.from({ length: 256 }, (_, code) => code);
const allSamples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe('mu-law codec', () => {
  it('decodes all 256 codes exactly like alawmulaw', () => {
    const decoded = new Int16Array(256);
    mulawDecode(allCodes, decoded);
    const mismatches = [...allCodes].filter((code) => decoded[code] !== reference.decodeSample(code));
    expect(mismatches).toEqual([]);
    expect([...allCodes].every((code) => mulawDecodeSample(code) === decoded[code])).toBe(true);
  });

  it('encodes all 65536 int16 values exactly like alawmulaw', () => {
    const encoded = new Uint8Array(65536);
    mulawEncode(allSamples, encoded);
    // alawmulaw returns ~(...) unmasked, i.e. a negative number; compare the byte it stands for.
    const mismatches = [...allSamples].filter((s, i) => encoded[i] !== (reference.encodeSample(s) & 0xff));
    expect(mismatches).toEqual([]);
    expect(allSamples.every((s, i) => mulawEncodeSample(s) === encoded[i])).toBe(true);
  });

  it('maps digital silence to 0xff and back to 0', () => {
    expect(mulawEncodeSample(0)).toBe(MULAW_SILENCE_BYTE);
    expect(mulawDecodeSample(MULAW_SILENCE_BYTE)).toBe(0);
  });

  it('is a fixed point for decoded values (encode(decode(c)) decodes to the same value)', () => {
    for (const code of allCodes) {
      expect(mulawDecodeSample(mulawEncodeSample(mulawDecodeSample(code)))).toBe(mulawDecodeSample(code));
    }
  });

  it('honours offset and length, and leaves the rest of the output untouched', () => {
    const pcm = Int16Array.of(0, 1000, -1000, 32767, -32768);
    const encoded = new Uint8Array(8).fill(0x55);
    mulawEncode(pcm, encoded, 2, 3);
    expect([...encoded]).toEqual([0x55, 0x55, ...[0, 1000, -1000].map((s) => reference.encodeSample(s) & 0xff), 0x55, 0x55, 0x55]);

    const decoded = new Int16Array(6).fill(7);
    mulawDecode(encoded.subarray(2, 5), decoded, 1, 2);
    expect([...decoded]).toEqual([7, 0, reference.decodeSample(encoded[3]!), 7, 7, 7]);
  });

  it('throws instead of silently dropping samples that do not fit', () => {
    expect(() => mulawDecode(new Uint8Array(160), new Int16Array(159))).toThrow(RangeError);
    expect(() => mulawEncode(new Int16Array(160), new Uint8Array(160), 1)).toThrow(RangeError);
    expect(() => mulawEncode(new Int16Array(10), new Uint8Array(20), 0, 11)).toThrow(RangeError);
  });
});
