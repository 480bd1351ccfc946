/**
 * G.711 mu-law codec, bit-exact with `alawmulaw` (the classic Sun-style coder).
 *
 * Both directions are table lookups built once at module load from the G.711 formula:
 * 256 entries to decode, and 65536 entries (indexed by `sample & 0xffff`) to encode, which
 * avoids the per-sample sign/exponent search and costs 64 KiB once per process.
 */

/** Encoded digital silence: ~(positive sign | exponent 0 | mantissa 0). */
export const MULAW_SILENCE_BYTE = 0xff;

/** Added to the magnitude so every segment boundary falls on a power of two. */
const BIAS = 0x84;
/** Largest biased magnitude; `alawmulaw` clips after adding BIAS, and so must we. */
const CLIP = 32635;
const SIGN_BIT = 0x80;

const DECODE_TABLE = new Int16Array(256);
const ENCODE_TABLE = new Uint8Array(65536);

for (let code = 0; code < 256; code++) {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  DECODE_TABLE[code] = inverted & SIGN_BIT ? -magnitude : magnitude;
}

for (let index = 0; index < 65536; index++) {
  const sample = (index << 16) >> 16;
  const sign = sample < 0 ? SIGN_BIT : 0;
  const biased = Math.min((sign ? -sample : sample) + BIAS, CLIP);
  // Segment = position of the highest set bit above bit 7 (0 when biased < 256).
  const exponent = Math.max(0, 31 - Math.clz32(biased >> 7));
  const mantissa = (biased >> (exponent + 3)) & 0x0f;
  ENCODE_TABLE[index] = ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function mulawDecodeSample(code: number): number {
  return DECODE_TABLE[code & 0xff]!;
}

/** `sample` must be an integer; values outside int16 wrap, exactly as an Int16Array store would. */
export function mulawEncodeSample(sample: number): number {
  return ENCODE_TABLE[sample & 0xffff]!;
}

/** Decodes `input[0, length)` into `output[outputOffset, outputOffset + length)`. */
export function mulawDecode(
  input: Uint8Array,
  output: Int16Array,
  outputOffset = 0,
  length = input.length,
): void {
  checkRange(input.length, length, output.length, outputOffset);
  for (let i = 0; i < length; i++) output[outputOffset + i] = DECODE_TABLE[input[i]!]!;
}

/** Encodes `input[0, length)` into `output[outputOffset, outputOffset + length)`. */
export function mulawEncode(
  input: Int16Array,
  output: Uint8Array,
  outputOffset = 0,
  length = input.length,
): void {
  checkRange(input.length, length, output.length, outputOffset);
  for (let i = 0; i < length; i++) output[outputOffset + i] = ENCODE_TABLE[input[i]! & 0xffff]!;
}

// Typed arrays drop out-of-range writes silently; fail loudly instead.
function checkRange(inputLength: number, length: number, outputLength: number, outputOffset: number): void {
  if (length < 0 || length > inputLength || outputOffset < 0 || outputOffset + length > outputLength) {
    throw new RangeError(
      `mu-law: ${length} samples from an input of ${inputLength} do not fit an output of ${outputLength} at offset ${outputOffset}`,
    );
  }
}
