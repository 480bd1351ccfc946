/** Wire formats on both legs of the bridge. Rates in samples per second, durations in ms, sizes in bytes. */

/** Twilio Media Streams carry G.711 mu-law at 8 kHz, one byte per sample. */
export const TWILIO_SAMPLE_RATE_HZ = 8000;
/** Gemini Live accepts 16 kHz PCM16LE from the caller. */
export const MODEL_INPUT_SAMPLE_RATE_HZ = 16000;
/** Gemini Live native audio replies in 24 kHz PCM16LE. */
export const MODEL_OUTPUT_SAMPLE_RATE_HZ = 24000;

/** Twilio sends (and expects) 20 ms media frames. */
export const FRAME_MS = 20;
export const MULAW_BYTES_PER_MS = TWILIO_SAMPLE_RATE_HZ / 1000;
export const TWILIO_FRAME_BYTES = FRAME_MS * MULAW_BYTES_PER_MS;

export const PCM16_BYTES_PER_SAMPLE = 2;
