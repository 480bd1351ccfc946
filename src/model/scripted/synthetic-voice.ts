/**
 * The scripted models' voice: not words, but a signal the audio path treats as speech. A buzz rich in harmonics
 * (a sawtooth at a speaking pitch, softened by a low-pass) is switched on for letters and digits and off for
 * spaces and punctuation, with short ramps, so the resampler, the codec, level meters and voice detectors all see
 * syllables and pauses. The transcript carries the words.
 */
export const VOICE_SAMPLE_RATE_HZ = 24_000;

/** Peak of the buzz as a fraction of full scale: speech level, well clear of clipping. */
const PEAK = 0.3;
/** Ramps in and out of each syllable, so nothing clicks. */
const RAMP_MS = 8;
/** The low-pass that softens the sawtooth's top harmonics (a one-pole filter's coefficient at 24 kHz: ~1.5 kHz). */
const SMOOTHING = 0.33;

/** `text` spoken over `durationMs` (rounded to whole samples per character). */
export function syntheticSpeech(text: string, durationMs: number): Int16Array {
  const characters = [...text];
  const perCharacter = Math.round((durationMs * VOICE_SAMPLE_RATE_HZ) / 1000 / Math.max(1, characters.length));
  const out = new Int16Array(characters.length * perCharacter);
  // Each text its own pitch (110–170 Hz), so two replies can be told apart.
  const pitchHz = 110 + (characters.reduce((sum, character) => sum + character.codePointAt(0)!, 0) % 60);
  const rampSamples = (RAMP_MS * VOICE_SAMPLE_RATE_HZ) / 1000;
  const voicedCharacters = characters.map((character) => /[\p{L}\p{N}]/u.test(character));
  let phase = 0;
  let gain = 0;
  let smoothed = 0;
  for (let i = 0; i < out.length; i++) {
    const voiced = voicedCharacters[Math.floor(i / perCharacter)]! && i < out.length - rampSamples;
    gain = voiced ? Math.min(1, gain + 1 / rampSamples) : Math.max(0, gain - 1 / rampSamples);
    phase = (phase + pitchHz / VOICE_SAMPLE_RATE_HZ) % 1;
    smoothed += SMOOTHING * (2 * phase - 1 - smoothed);
    out[i] = Math.round(smoothed * gain * PEAK * 32767);
  }
  return out;
}
