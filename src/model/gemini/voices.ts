/**
 * Prebuilt voices of the native-audio Live models (the TTS voice set; Gemini API docs, "speech generation →
 * voices"). Names are case-sensitive; an unknown one makes the service close the session instead of sending
 * setupComplete, so they are checked at start-up (`settingsProblems`).
 */
export const GEMINI_VOICES = [
  'Zephyr', 'Puck', 'Charon', 'Kore', 'Fenrir', 'Leda', 'Orus', 'Aoede', 'Callirrhoe', 'Autonoe',
  'Enceladus', 'Iapetus', 'Umbriel', 'Algieba', 'Despina', 'Erinome', 'Algenib', 'Rasalgethi',
  'Laomedeia', 'Achernar', 'Alnilam', 'Schedar', 'Gacrux', 'Pulcherrima', 'Achird', 'Zubenelgenubi',
  'Vindemiatrix', 'Sadachbia', 'Sadaltager', 'Sulafat',
] as const;

export type GeminiVoice = (typeof GEMINI_VOICES)[number];

export const DEFAULT_VOICE: GeminiVoice = 'Kore';

export function isGeminiVoice(value: unknown): value is GeminiVoice {
  return typeof value === 'string' && (GEMINI_VOICES as readonly string[]).includes(value);
}

/** A voice Gemini Live does not have (none: the default), as a problem line. */
export function geminiVoiceProblems(voice: string | undefined): string[] {
  if (voice === undefined || isGeminiVoice(voice)) return [];
  return [`voice "${voice}" is not a Gemini Live voice; use one of ${GEMINI_VOICES.join(', ')}`];
}
