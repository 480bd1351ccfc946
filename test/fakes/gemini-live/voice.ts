/**
 * Reply "speech" for the fake model: deterministic, harmonic-rich audio at 24 kHz (the Live API's only
 * output rate). Not intelligible, but it behaves like a voice for the code under test: energy in the
 * 100 Hz–2 kHz telephony band, syllable-rate amplitude modulation and short gaps at word boundaries,
 * so resamplers, μ-law encoders, level meters and VADs all see something speech-like.
 */

export const OUTPUT_SAMPLE_RATE = 24000;

export interface SynthOptions {
  /** Duration per character of text (default 60 ms). */
  msPerChar?: number;
  /** Peak amplitude as a fraction of full scale (default 0.35 → RMS around −20 dBFS). */
  peak?: number;
}

/**
 * Synthesize speech-like PCM16 for `text`. The fundamental (110–190 Hz) is derived from a hash of the
 * text, so tests can tell replies apart by pitch if they need to.
 */
export function synthesizeSpeech(text: string, options: SynthOptions = {}): Int16Array {
  const msPerChar = options.msPerChar ?? 60;
  const peak = options.peak ?? 0.35;
  const chars = [...text];
  const charSamples = Math.round((msPerChar * OUTPUT_SAMPLE_RATE) / 1000);
  const out = new Int16Array(chars.length * charSamples);
  if (out.length === 0) return out;

  const f0 = 110 + (hash(text) % 80);
  const harmonics = 10;
  let norm = 0;
  for (let k = 1; k <= harmonics; k++) norm += 1 / k;
  const scale = (peak * 32767) / norm;

  // Per-character target gain: letters voiced, spaces/punctuation nearly silent (word gaps).
  const gains = chars.map((c) => (/[\p{L}\p{N}]/u.test(c) ? 1 : 0.05));
  const smoothing = 1 - Math.exp(-1 / (0.008 * OUTPUT_SAMPLE_RATE)); // ~8 ms attack/release
  let gain = 0;
  let phase = 0;

  for (let i = 0; i < out.length; i++) {
    const t = i / OUTPUT_SAMPLE_RATE;
    const target = gains[Math.floor(i / charSamples)] ?? 0;
    gain += (target - gain) * smoothing;
    // 4 Hz syllable envelope and a slow vibrato keep the spectrum from being a static tone.
    const syllable = 0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * t);
    const freq = f0 * (1 + 0.03 * Math.sin(2 * Math.PI * 5.5 * t));
    phase += (2 * Math.PI * freq) / OUTPUT_SAMPLE_RATE;
    let v = 0;
    for (let k = 1; k <= harmonics; k++) v += Math.sin(k * phase) / k;
    out[i] = Math.round(v * scale * gain * syllable);
  }
  // Short fade-out so the turn does not end on a click.
  const fade = Math.min(out.length, Math.round(0.01 * OUTPUT_SAMPLE_RATE));
  for (let i = 0; i < fade; i++) {
    const idx = out.length - 1 - i;
    out[idx] = Math.round((out[idx] ?? 0) * (i / fade));
  }
  return out;
}

/**
 * Split text into transcription fragments the way the service streams them: word by word with the
 * separating space kept at the start of the fragment (`"We"`, `" could"`, `" talk"`), so clients
 * must concatenate rather than join with spaces.
 */
export function splitTranscript(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
