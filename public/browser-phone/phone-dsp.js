// The browser phone's signal processing, shared by its audio worklets and the tests (Node imports this file):
// no DOM, no Web Audio, only numbers. Phone audio is what Twilio carries: 8 kHz G.711 mu-law in 20 ms frames.

export const PHONE_SAMPLE_RATE_HZ = 8000;
/** 20 ms at 8 kHz, one byte per sample: one Twilio `media` frame. */
export const FRAME_SAMPLES = 160;

// ── G.711 mu-law, bit-exact with the server's codec (src/audio/mulaw.ts) ───────────────────────────────────

const BIAS = 0x84;
const CLIP = 32635;
const DECODE_TABLE = new Int16Array(256);
const ENCODE_TABLE = new Uint8Array(65536);
for (let code = 0; code < 256; code++) {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const magnitude = ((((inverted & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  DECODE_TABLE[code] = inverted & 0x80 ? -magnitude : magnitude;
}
for (let index = 0; index < 65536; index++) {
  const sample = (index << 16) >> 16;
  const sign = sample < 0 ? 0x80 : 0;
  const biased = Math.min((sign ? -sample : sample) + BIAS, CLIP);
  const exponent = Math.max(0, 31 - Math.clz32(biased >> 7));
  ENCODE_TABLE[index] = ~(sign | (exponent << 4) | ((biased >> (exponent + 3)) & 0x0f)) & 0xff;
}

/** One int16 sample (an integer) to its mu-law byte. */
export function mulawEncodeSample(sample) {
  return ENCODE_TABLE[sample & 0xffff];
}

/** One mu-law byte to its int16 sample. */
export function mulawDecodeSample(code) {
  return DECODE_TABLE[code & 0xff];
}

/** Web Audio float (-1..1) to int16, clipped; rounding keeps silence at 0 (mu-law 0xFF). */
export function floatToInt16(value) {
  const scaled = Math.round(value * 32768);
  return scaled > 32767 ? 32767 : scaled < -32768 ? -32768 : scaled;
}

// ── Resampling ─────────────────────────────────────────────────────────────────────────────────────────────

/** Modified Bessel function of the first kind, order 0 (for the Kaiser window). */
function besselI0(x) {
  const quarterXSquared = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-12; k++) {
    term *= quarterXSquared / (k * k);
    sum += term;
  }
  return sum;
}

/**
 * Low-pass for the phone band, in both directions: the -6 dB point at 4 kHz and a Kaiser window (beta 8,
 * about 80 dB down) over 2.1 ms each side, which makes the transition about ±600 Hz: flat to 3.4 kHz, and
 * what would fold back below 3.4 kHz (above 4.6 kHz) is removed.
 */
export const PHONE_BAND = { cutoffHz: 4000, halfWidthMs: 2.1, beta: 8 };

/** Kernel phases stored per input sample; weights between two phases are interpolated linearly. */
const KERNEL_PHASES = 256;

/**
 * Streaming resampler between any two rates (the microphone's 44.1 or 48 kHz and the phone's 8 kHz, either
 * way): a Kaiser-windowed sinc evaluated at each output instant, from a precomputed table of kernel phases.
 * The state carries across calls, so any chunking of the input gives the same output. Delay: `halfWidth`
 * input samples.
 */
export class SincResampler {
  constructor(inputRateHz, outputRateHz, { cutoffHz, halfWidthMs, beta } = PHONE_BAND) {
    if (!(inputRateHz > 0 && outputRateHz > 0)) throw new RangeError('sample rates must be positive');
    this.step = inputRateHz / outputRateHz;
    this.halfWidth = Math.max(2, Math.ceil((halfWidthMs / 1000) * inputRateHz));
    const taps = 2 * this.halfWidth;
    const cutoff = Math.min(0.5, cutoffHz / inputRateHz); // cycles per input sample
    this.taps = taps;
    this.table = new Float32Array((KERNEL_PHASES + 1) * taps);
    const normaliser = besselI0(beta);
    for (let phase = 0; phase <= KERNEL_PHASES; phase++) {
      const fraction = phase / KERNEL_PHASES;
      let sum = 0;
      const row = new Float64Array(taps);
      for (let j = 0; j < taps; j++) {
        // Tap j weighs the input sample at offset (j - halfWidth + 1) from floor(t); d is its distance from t.
        const d = fraction - (j - this.halfWidth + 1);
        const position = d / this.halfWidth;
        const window = Math.abs(position) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - position * position)) / normaliser;
        const x = 2 * cutoff * d;
        row[j] = 2 * cutoff * (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)) * window;
        sum += row[j];
      }
      // Unity gain at DC for every phase, so a fractional step cannot modulate the level.
      for (let j = 0; j < taps; j++) this.table[phase * taps + j] = row[j] / sum;
    }
    // History starts as silence: the first outputs are the filter settling on zeros.
    this.buffer = new Float32Array(4096);
    this.length = this.halfWidth;
    this.position = this.halfWidth - 1; // input index (in `buffer`) of the next output instant
  }

  /** Resamples a chunk; returns the outputs it completes (those whose inputs up to +halfWidth have arrived). */
  process(input) {
    this.append(input);
    const available = Math.max(0, Math.ceil((this.length - this.halfWidth - this.position) / this.step));
    const output = new Float32Array(available);
    const { table, taps, buffer } = this;
    let count = 0;
    while (count < available) {
      const base = Math.floor(this.position);
      if (base + this.halfWidth >= this.length) break;
      const scaled = (this.position - base) * KERNEL_PHASES;
      const phase = Math.floor(scaled);
      const blend = scaled - phase;
      const rowA = phase * taps;
      const rowB = rowA + taps;
      const first = base - this.halfWidth + 1;
      let sum = 0;
      for (let j = 0; j < taps; j++) {
        const weight = table[rowA + j] + (table[rowB + j] - table[rowA + j]) * blend;
        sum += weight * buffer[first + j];
      }
      output[count++] = sum;
      this.position += this.step;
    }
    this.compact();
    return count === available ? output : output.subarray(0, count);
  }

  append(input) {
    if (this.length + input.length > this.buffer.length) {
      const grown = new Float32Array(Math.max(this.buffer.length * 2, this.length + input.length));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(input, this.length);
    this.length += input.length;
  }

  /** Drops input no future output needs. */
  compact() {
    const keepFrom = Math.floor(this.position) - this.halfWidth + 1;
    if (keepFrom <= 0) return;
    this.buffer.copyWithin(0, keepFrom, this.length);
    this.length -= keepFrom;
    this.position -= keepFrom;
  }
}

// ── Agent audio playout: jitter buffer, marks and clear, as Twilio's media server behaves ──────────────────

/** Playback starts once this much agent audio is queued (60 ms at 8 kHz), or when a mark says the batch is whole. */
export const PREBUFFER_SAMPLES = 480;

/**
 * Agent audio waiting to be played, at 8 kHz, with the marks between it. Twilio's semantics: a mark is echoed
 * when all audio sent before it has played (at once if nothing is queued); `clear` drops the queued audio and
 * echoes every pending mark. A jitter buffer smooths arrival: after running dry, playback resumes only once
 * PREBUFFER_SAMPLES are queued or a mark closes the batch, so a late frame does not cause a stutter per frame.
 */
export class PlayoutQueue {
  constructor(prebufferSamples = PREBUFFER_SAMPLES) {
    this.prebufferSamples = prebufferSamples;
    this.chunks = [];
    this.chunkOffset = 0;
    this.queued = 0;
    /** Samples ever queued and ever played, to place marks on one timeline. */
    this.queuedTotal = 0;
    this.playedTotal = 0;
    this.marks = [];
    this.playing = false;
    this.stats = { agentSamplesPlayed: 0, underruns: 0, peak: 0 };
  }

  get queuedSamples() {
    return this.queued;
  }

  pushAudio(samples) {
    if (samples.length === 0) return;
    this.chunks.push(samples);
    this.queued += samples.length;
    this.queuedTotal += samples.length;
  }

  /** Returns the marks to echo right away: this one, if nothing is waiting to be played before it. */
  pushMark(name) {
    if (this.queued === 0 && this.marks.length === 0) return [name];
    this.marks.push({ name, position: this.queuedTotal });
    return [];
  }

  /** Barge-in: drop what is queued; returns the discarded amount and the marks to echo now. */
  clear() {
    const discardedSamples = this.queued;
    const marks = this.marks.map((mark) => mark.name);
    this.playedTotal = this.queuedTotal; // nothing queued is owed any more
    this.chunks = [];
    this.chunkOffset = 0;
    this.queued = 0;
    this.marks = [];
    this.playing = false;
    return { discardedSamples, marks };
  }

  /**
   * The next `count` samples to play (silence while buffering or dry), and the marks whose audio has now
   * been played in full.
   */
  read(count) {
    const output = new Float32Array(count);
    if (!this.playing && this.queued > 0 && (this.queued >= this.prebufferSamples || this.marks.length > 0)) this.playing = true;
    let written = 0;
    if (this.playing) {
      while (written < count && this.chunks.length > 0) {
        const chunk = this.chunks[0];
        const take = Math.min(count - written, chunk.length - this.chunkOffset);
        for (let i = 0; i < take; i++) {
          const value = chunk[this.chunkOffset + i];
          output[written + i] = value;
          const magnitude = value < 0 ? -value : value;
          if (magnitude > this.stats.peak) this.stats.peak = magnitude;
        }
        written += take;
        this.chunkOffset += take;
        if (this.chunkOffset === chunk.length) {
          this.chunks.shift();
          this.chunkOffset = 0;
        }
      }
      this.queued -= written;
      this.playedTotal += written;
      this.stats.agentSamplesPlayed += written;
      if (this.queued === 0) {
        // Ran dry: the end of a batch, or a late frame (an underrun if a mark still waits for more audio).
        this.playing = false;
        if (written < count && this.marks.some((mark) => mark.position > this.playedTotal)) this.stats.underruns++;
      }
    }
    const played = [];
    while (this.marks.length > 0 && this.marks[0].position <= this.playedTotal) played.push(this.marks.shift().name);
    return { samples: output, marks: played };
  }
}
