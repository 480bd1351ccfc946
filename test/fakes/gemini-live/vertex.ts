/**
 * The Vertex AI (Gemini Enterprise) side of the fake: the path, the OAuth check on the upgrade and the
 * setup's model resource name, as `@google/genai` 3.1.0 sends them in Vertex mode (docs/vertex-ai.md):
 *
 * - path `{base}/ws/google.cloud.aiplatform.{apiVersion}.LlmBidiService/BidiGenerateContent` (Live.connect in
 *   dist/node/index.mjs); with a base URL without a path the SDK sends `//ws/...`, so only the suffix is matched;
 * - no key in the URL: google-auth-library adds `Authorization: Bearer <access token>` to the upgrade request;
 * - `setup.model` = `projects/{p}/locations/{l}/publishers/google/models/{m}` (tModel + Live.connect).
 *
 * Google's front end checks OAuth credentials before a request reaches the service, so a missing or wrong
 * token gets an HTTP 401 with a google.rpc UNAUTHENTICATED body on the upgrade itself (no WebSocket), with the
 * texts aiplatform.googleapis.com uses; the key path of the Gemini API instead authenticates after the upgrade
 * and closes (server.ts). Rejecting a Vertex Live handshake at the HTTP level is what third-party reports show
 * (livekit/agents#1761: the upgrade answered with an HTTP error status, `InvalidStatus`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { type CloseSpec, invalidArgument } from './protocol.js';

/** Suffix of the Vertex Live method; group 1 is the API version (`v1`, `v1beta1`). */
export const VERTEX_PATH_RE = /google\.cloud\.aiplatform\.([^./]+)\.LlmBidiService\/BidiGenerateContent$/;

/** `projects/{p}/locations/{l}/publishers/{publisher}/models/{model}`. */
const MODEL_RESOURCE_RE = /^projects\/([^/]+)\/locations\/([^/]+)\/publishers\/([^/]+)\/models\/([^/]+)$/;

export const MISSING_CREDENTIAL =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
export const INVALID_CREDENTIAL =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export function isVertexPath(path: string): boolean {
  return VERTEX_PATH_RE.test(path);
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/**
 * The raw HTTP response refusing a Vertex upgrade, or undefined to let it through. Without an expected token
 * the fake accepts any caller, like the key path without `apiKey`.
 */
export function vertexUpgradeRefusal(headers: IncomingHttpHeaders, expectedToken: string | undefined): string | undefined {
  if (expectedToken === undefined) return undefined;
  const token = bearerToken(headers);
  if (token !== undefined && sameSecret(token, expectedToken)) return undefined;
  const message = token === undefined ? MISSING_CREDENTIAL : INVALID_CREDENTIAL;
  const body = `${JSON.stringify({ error: { code: 401, message, status: 'UNAUTHENTICATED' } }, null, 2)}\n`;
  return [
    'HTTP/1.1 401 Unauthorized',
    'Content-Type: application/json; charset=UTF-8',
    'WWW-Authenticate: Bearer realm="https://accounts.google.com/"',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks a Vertex setup's model. Vertex addresses a model by its full resource name; a bare id or a Gemini API
 * style `models/x` is not a resource it knows (INVALID_ARGUMENT → 1007). With `allowed`, a well-formed name of
 * another model is NOT_FOUND (→ 1008), worded like Vertex's "Publisher Model ... not found". Entries of
 * `allowed` may be bare ids (`gemini-live-2.5-flash-native-audio`), `models/` ids, or full resource names.
 */
export function vertexModelProblem(model: string, allowed: readonly string[] | undefined): CloseSpec | undefined {
  const match = MODEL_RESOURCE_RE.exec(model);
  if (!match) return invalidArgument();
  if (allowed === undefined) return undefined;
  const id = match[4] ?? '';
  const known = allowed.some((entry) => entry === model || entry.replace(/^models\//, '') === id);
  return known ? undefined : { code: 1008, reason: `Publisher Model \`${model}\` not found.` };
}
