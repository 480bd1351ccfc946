import { BACKEND_NAMES, modelId, type GeminiBackend } from './live-models.js';

/**
 * The Live service's refusals, as a sentence that says what to change: for the log when a session fails, and for the
 * doctor. The codes are WebSocket close codes the service maps its status to (1007 INVALID_ARGUMENT, 1008 NOT_FOUND or
 * PERMISSION_DENIED / policy, 1011 INTERNAL / UNAVAILABLE / DEADLINE_EXCEEDED); the wordings are the ones reported
 * from the real service (sources on each rule; docs/troubleshooting.md lists them).
 */

export interface LiveFailureContext {
  model: string;
  backend: GeminiBackend;
  /** The API version the session used; undefined: the SDK's default. */
  apiVersion: string | undefined;
}

/** A close the SDK reported: "Live connection closed before setup completed (code 1008): <reason>". */
export function parseLiveClose(message: string): { code: number; reason: string } | undefined {
  const match = /\(code (\d{4})\):?\s*(.*)$/s.exec(message);
  return match === null ? undefined : { code: Number(match[1]), reason: (match[2] ?? '').trim() };
}

/** Which agent setting puts each setup field on the wire (an unknown field is one the model or version lacks). */
const FIELD_SETTINGS: Readonly<Record<string, string>> = {
  proactivity: 'proactiveAudio',
  enableAffectiveDialog: 'affectiveDialog',
  enable_affective_dialog: 'affectiveDialog',
  thinkingConfig: 'thinking',
  thinking_config: 'thinking',
  temperature: 'temperature',
  realtimeInputConfig: 'turnTaking',
  realtime_input_config: 'turnTaking',
  turnCoverage: 'turnTaking.turnCoverage',
  turn_coverage: 'turnTaking.turnCoverage',
  languageCodes: 'inputTranscription.languages',
  language_codes: 'inputTranscription.languages',
  customVocabulary: 'inputTranscription.vocabulary',
  custom_vocabulary: 'inputTranscription.vocabulary',
};

type Rule = (code: number, reason: string, c: LiveFailureContext) => string | undefined;

const where = (c: LiveFailureContext): string => `model ${modelId(c.model)} on ${BACKEND_NAMES[c.backend]} (API version ${c.apiVersion ?? 'the SDK default'})`;

const RULES: readonly Rule[] = [
  // 1007 with the proto parser's words for a field this version does not have (googleapis/js-genai#696).
  (code, reason, c) => {
    const field = /Unknown name "([^"]+)"/.exec(reason)?.[1];
    if (code !== 1007 || field === undefined) return undefined;
    const setting = FIELD_SETTINGS[field];
    const cure = setting === undefined ? 'remove it' : `remove the agent's ${setting}, or use the model and API version that offer it (docs/models.md)`;
    return `Gemini does not know the setup field "${field}" for ${where(c)}: ${cure}`;
  },
  // The key path authenticates after the upgrade: a wrong key closes 1007, none at all 1008 (as the service words it).
  (code, reason) => (code === 1007 && /API key not valid/i.test(reason) ? 'GEMINI_API_KEY is not a valid key: create one at https://aistudio.google.com/apikey and set GEMINI_API_KEY' : undefined),
  (code, reason) => (code === 1008 && /unregistered callers|API Key or other form/i.test(reason) ? 'no API key reached Gemini: set GEMINI_API_KEY (or Vertex AI with GOOGLE_GENAI_USE_VERTEXAI)' : undefined),
  (code, reason, c) => {
    const field = /Invalid value at '([^']+)'/.exec(reason)?.[1];
    return code === 1007 && field !== undefined ? `Gemini refused the value of ${field} for ${where(c)}: check that agent setting (docs/models.md)` : undefined;
  },
  (code, _reason, c) =>
    code === 1007
      ? `Gemini refused the setup as invalid for ${where(c)}: an agent feature, turn setting, transcription hint or tool behaviour this model does not take, or an unknown voice (docs/models.md); npm run doctor opens a session per agent and names the one`
      : undefined,
  // 1008 "models/X is not found for API version vN, or is not supported for bidiGenerateContent" (google/adk-samples#145).
  (code, reason, c) =>
    code === 1008 && /not found for API version|not supported for bidiGenerateContent/i.test(reason)
      ? `${where(c)} is not a Live model this key can use: set GEMINI_MODEL (or the agent's model) to one (docs/models.md), or unset GEMINI_API_VERSION if a preview model needs another version`
      : undefined,
  // Vertex: "Publisher Model `projects/.../models/X` not found."
  (code, reason, c) =>
    code === 1008 && /Publisher Model .* not found/i.test(reason)
      ? `${where(c)} is not offered in this Google Cloud project and location: check GEMINI_MODEL and GOOGLE_CLOUD_LOCATION (Live models are offered per region; docs/vertex-ai.md)`
      : undefined,
  // 1008 "Operation is not implemented, or supported, or enabled." (googleapis/js-genai#1236, livekit/agents#4545).
  (code, reason, c) =>
    code === 1008 && /not implemented, or supported, or enabled/i.test(reason)
      ? `Gemini refused an operation ${where(c)} does not support (policy): usually a feature or tool setting of the agent; check it against docs/models.md`
      : undefined,
  (code, reason) => (code === 1008 && /quota|exhausted|rate/i.test(reason) ? "the key's project is out of Live API quota: wait, or raise the quota in Google AI Studio / the Cloud console" : undefined),
  (code, reason) => (code === 1008 ? `Gemini closed the session by policy (1008: ${reason || 'no reason given'}): check that the key's project may use the Live API and this model` : undefined),
  // 1011 "The service is currently unavailable." (googleapis/python-genai#760) and "Deadline expired ..." (kizuna-ai-lab/sokuji#179).
  (code, reason) =>
    code === 1011 && /unavailable/i.test(reason) ? 'Gemini is unavailable right now (1011): calls retry on their own; if it lasts, check https://aistudio.google.com/status' : undefined,
  (code, reason) =>
    code === 1011 && /deadline/i.test(reason)
      ? 'Gemini did not finish in time (1011 deadline expired): after a goAway this ends a connection and the call resumes on a new one; at setup, try again'
      : undefined,
  (code) => (code === 1011 ? 'Gemini failed internally (1011): calls reconnect with the resumption handle; if it happens at every setup, report it with the test:live JSON' : undefined),
];

/** What to change for a close from the Live service, or undefined when there is nothing to add. */
export function liveFailureAdvice(code: number, reason: string, context: LiveFailureContext): string | undefined {
  for (const rule of RULES) {
    const advice = rule(code, reason, context);
    if (advice !== undefined) return advice;
  }
  return undefined;
}
