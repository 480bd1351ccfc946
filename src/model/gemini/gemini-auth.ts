import { GoogleGenAI, type GoogleGenAIOptions } from '@google/genai';
import type { GeminiBackend } from './live-models.js';

/**
 * How the service reaches Gemini Live: the Gemini Developer API with an API key, or Vertex AI
 * (Gemini Enterprise) in a Google Cloud project and location with Application Default Credentials.
 * Chosen once at start-up from the settings (src/settings: the SDK's own environment variables, or code; docs/vertex-ai.md).
 */
export type GeminiAuth = { kind: 'api-key'; apiKey: string } | { kind: 'vertex'; project: string; location: string };

/**
 * API versions of each backend, and the SDK's default when none is set (`@google/genai` 3.1.0:
 * `GOOGLE_AI_API_DEFAULT_VERSION = 'v1'`, `VERTEX_AI_API_DEFAULT_VERSION = 'v1beta1'`). The version is part of
 * the WebSocket path (`google.ai.generativelanguage.<v>.GenerativeService` / `google.cloud.aiplatform.<v>.LlmBidiService`),
 * and the two services do not share version names: `v1beta` exists only on the Gemini API, `v1beta1` only on Vertex.
 */
export const API_VERSIONS = {
  'api-key': { default: 'v1', allowed: ['v1', 'v1beta', 'v1alpha'] },
  vertex: { default: 'v1beta1', allowed: ['v1', 'v1beta1'] },
} as const satisfies Record<GeminiAuth['kind'], { default: string; allowed: readonly string[] }>;

/** The API version the SDK uses for this backend when none is set. */
export function defaultApiVersion(auth: GeminiAuth): string {
  return API_VERSIONS[auth.kind].default;
}

/** A problem line if `apiVersion` (e.g. GEMINI_API_VERSION) does not exist on this backend; else undefined. */
export function apiVersionProblem(auth: GeminiAuth, apiVersion: string | undefined, variable = 'GEMINI_API_VERSION'): string | undefined {
  if (apiVersion === undefined) return undefined;
  const { allowed } = API_VERSIONS[auth.kind];
  if ((allowed as readonly string[]).includes(apiVersion)) return undefined;
  const backend = auth.kind === 'vertex' ? 'Vertex AI' : 'the Gemini Developer API';
  return `${variable} must be one of ${allowed.join(', ')} for ${backend} (got "${apiVersion}")`;
}

export interface CreateGenAIOptions {
  /** Default: the SDK's (v1 for the Gemini API, v1beta1 for Vertex AI, or GOOGLE_GENAI_API_VERSION). */
  apiVersion?: string;
  /** Another endpoint (a proxy, the tests' fake); default GOOGLE_GEMINI_BASE_URL / GOOGLE_VERTEX_BASE_URL, else Google's. */
  baseUrl?: string;
  /**
   * Vertex AI only: passed to google-auth-library (e.g. `keyFilename`, or `clientOptions` for a custom transport).
   * Without it the SDK uses Application Default Credentials with the cloud-platform scope.
   */
  googleAuthOptions?: GoogleGenAIOptions['googleAuthOptions'];
}

/**
 * One SDK client for this backend, through the SDK's own options. The backend is always explicit
 * (`vertexai: true|false`), so GOOGLE_GENAI_USE_VERTEXAI left in the environment cannot switch it behind our back.
 */
export function createGenAI(auth: GeminiAuth, options: CreateGenAIOptions = {}): GoogleGenAI {
  const common: GoogleGenAIOptions = {
    ...(options.apiVersion === undefined ? {} : { apiVersion: options.apiVersion }),
    ...(options.baseUrl === undefined ? {} : { httpOptions: { baseUrl: options.baseUrl } }),
  };
  if (auth.kind === 'api-key') {
    return new GoogleGenAI({ ...common, vertexai: false, apiKey: auth.apiKey });
  }
  return new GoogleGenAI({
    ...common,
    vertexai: true,
    project: auth.project,
    location: auth.location,
    ...(options.googleAuthOptions === undefined ? {} : { googleAuthOptions: options.googleAuthOptions }),
  });
}

/**
 * Adds what to check to a failed Live open. Vertex AI refuses bad credentials on the WebSocket upgrade (HTTP 401/403),
 * which the SDK reports only as "Unexpected server response: 401". On Vertex the SDK gets the access token from
 * google-auth-library before it creates the socket, so a failure with no socket created is an ADC failure.
 */
export function explainSetupFailure(auth: GeminiAuth, message: string, socketCreated = true): string {
  if (auth.kind !== 'vertex') return message;
  if (!socketCreated) return `${message} (Application Default Credentials could not produce an access token for Vertex AI)`;
  if (/Unexpected server response: 401\b/.test(message)) {
    return `${message} (Vertex AI refused the credentials: check Application Default Credentials, e.g. GOOGLE_APPLICATION_CREDENTIALS or gcloud auth application-default login)`;
  }
  if (/Unexpected server response: 403\b/.test(message)) {
    return `${message} (Vertex AI denied access: the credentials need the Vertex AI User role (aiplatform.endpoints.predict) in project ${auth.project}, and the Vertex AI API must be enabled)`;
  }
  return message;
}

/** Which column of the capability table (live-models.ts) an auth method reads. */
export function geminiBackend(auth: GeminiAuth): GeminiBackend {
  return auth.kind === 'vertex' ? 'vertex-ai' : 'gemini-api';
}

/** For the doctor's report: which backend, never a secret. */
export function describeGeminiAuth(auth: GeminiAuth): string {
  return auth.kind === 'vertex' ? `Vertex AI (project ${auth.project}, location ${auth.location})` : 'Gemini Developer API (API key)';
}
