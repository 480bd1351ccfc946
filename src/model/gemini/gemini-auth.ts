import { GoogleGenAI, type GoogleGenAIOptions } from '@google/genai';

/**
 * How the service reaches Gemini Live: the Gemini Developer API with an API key, or Vertex AI
 * (Gemini Enterprise) in a Google Cloud project and location with Application Default Credentials.
 * Chosen once at start-up from the SDK's own environment variables (docs/vertex-ai.md).
 */
export type GeminiAuth = { kind: 'api-key'; apiKey: string } | { kind: 'vertex'; project: string; location: string };

export type Env = Record<string, string | undefined>;

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

/** Google Cloud project ids: 6–30 of a-z, 0-9, '-', starting with a letter; legacy ones may be domain-scoped. */
const PROJECT_RE = /^(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Regions (`us-central1`, `europe-west4`), multi-regions (`us`, `eu`) and `global`. */
const LOCATION_RE = /^[a-z]+(?:-[a-z]+[0-9]*)*$/;

/**
 * Reads the Gemini backend from the SDK's own variables; pushes one line per problem (all at once).
 *
 * - `GOOGLE_GENAI_USE_VERTEXAI` (or the SDK's newer name `GOOGLE_GENAI_USE_ENTERPRISE`, which wins in the SDK):
 *   `true`/`1` selects Vertex AI, `false`/`0`/unset the Gemini Developer API.
 * - Vertex AI needs `GOOGLE_CLOUD_PROJECT` and `GOOGLE_CLOUD_LOCATION` (no silent `global` default: the Live
 *   models are offered per region). Credentials come from ADC, never from a variable read here.
 * - An API key (`GEMINI_API_KEY` / `GOOGLE_API_KEY`) together with Vertex AI is a problem: Vertex would ignore
 *   it (the SDK prefers project+location), so a deploy that sets both does not say which account pays.
 * - `GEMINI_API_KEY` and `GOOGLE_API_KEY` with different values is a problem (the SDK silently picks GOOGLE_API_KEY).
 *
 * Returns `undefined` with no problem when nothing is configured (no key, Vertex not chosen): the caller decides
 * whether that means local mode or an error. `undefined` with problems means misconfigured.
 */
export function readGeminiAuth(env: Env, problems: string[]): GeminiAuth | undefined {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const before = problems.length;

  const vertexai = readFlag('GOOGLE_GENAI_USE_VERTEXAI', get('GOOGLE_GENAI_USE_VERTEXAI'), problems);
  const enterprise = readFlag('GOOGLE_GENAI_USE_ENTERPRISE', get('GOOGLE_GENAI_USE_ENTERPRISE'), problems);
  if (vertexai !== undefined && enterprise !== undefined && vertexai !== enterprise) {
    problems.push('GOOGLE_GENAI_USE_VERTEXAI and GOOGLE_GENAI_USE_ENTERPRISE disagree: set only one of them');
  }
  const useVertex = (enterprise ?? vertexai) === true;

  const geminiKey = get('GEMINI_API_KEY');
  const googleKey = get('GOOGLE_API_KEY');
  if (geminiKey !== undefined && googleKey !== undefined && geminiKey !== googleKey) {
    problems.push('GEMINI_API_KEY and GOOGLE_API_KEY are both set, to different keys: set only one');
  }
  const apiKey = geminiKey ?? googleKey;

  if (useVertex) {
    const project = get('GOOGLE_CLOUD_PROJECT');
    const location = get('GOOGLE_CLOUD_LOCATION');
    if (project === undefined) {
      problems.push('GOOGLE_CLOUD_PROJECT is required with GOOGLE_GENAI_USE_VERTEXAI=true: the Google Cloud project id that runs Vertex AI (e.g. my-project-123)');
    } else if (!PROJECT_RE.test(project)) {
      problems.push(`GOOGLE_CLOUD_PROJECT must be a project id: 6-30 lowercase letters, digits or hyphens, starting with a letter (got "${project}")`);
    }
    if (location === undefined) {
      problems.push('GOOGLE_CLOUD_LOCATION is required with GOOGLE_GENAI_USE_VERTEXAI=true: the region that serves the Live model (e.g. us-central1)');
    } else if (!LOCATION_RE.test(location)) {
      problems.push(`GOOGLE_CLOUD_LOCATION must be a region such as us-central1, europe-west4 or global (got "${location}")`);
    }
    if (apiKey !== undefined) {
      problems.push(
        `${geminiKey !== undefined ? 'GEMINI_API_KEY' : 'GOOGLE_API_KEY'} is set but GOOGLE_GENAI_USE_VERTEXAI=true selects Vertex AI, which signs in with Application Default Credentials and would ignore the key: unset one of them`,
      );
    }
    const baseUrl = get('GOOGLE_VERTEX_BASE_URL');
    if (baseUrl !== undefined && !isHttpUrl(baseUrl)) problems.push(`GOOGLE_VERTEX_BASE_URL must be an http(s) URL (got "${baseUrl}")`);
    if (problems.length > before || project === undefined || location === undefined) return undefined;
    return { kind: 'vertex', project, location };
  }

  if (problems.length > before || apiKey === undefined) return undefined;
  return { kind: 'api-key', apiKey };
}

/** `true`/`1` → true, `false`/`0` → false (any case), unset → undefined, anything else → a problem. */
function readFlag(name: string, value: string | undefined, problems: string[]): boolean | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  problems.push(`${name} must be true, false, 1 or 0 (got "${value}")`);
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

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

/** For logs: which backend, never a secret. */
export function describeGeminiAuth(auth: GeminiAuth): string {
  return auth.kind === 'vertex' ? `Vertex AI (project ${auth.project}, location ${auth.location})` : 'Gemini Developer API (API key)';
}
