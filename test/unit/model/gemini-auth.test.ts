import { describe, expect, it } from 'vitest';
import { apiVersionProblem, createGenAI, defaultApiVersion, explainSetupFailure } from '../../../src/model/gemini/gemini-auth.js';
import { redactKey } from '../../../src/model/gemini/live-session.js';

describe('API versions per backend', () => {
  it('defaults like the SDK and rejects the other backend version names', () => {
    const key = { kind: 'api-key', apiKey: 'k' } as const;
    const vertex = { kind: 'vertex', project: 'my-project', location: 'us-central1' } as const;
    expect(defaultApiVersion(key)).toBe('v1');
    expect(defaultApiVersion(vertex)).toBe('v1beta1');
    expect(apiVersionProblem(key, 'v1beta')).toBeUndefined();
    expect(apiVersionProblem(vertex, 'v1')).toBeUndefined();
    expect(apiVersionProblem(vertex, undefined)).toBeUndefined();
    expect(apiVersionProblem(vertex, 'v1beta')).toBe('GEMINI_API_VERSION must be one of v1, v1beta1 for Vertex AI (got "v1beta")');
    expect(apiVersionProblem(key, 'v1beta1')).toBe('GEMINI_API_VERSION must be one of v1, v1beta, v1alpha for the Gemini Developer API (got "v1beta1")');
  });
});

describe('createGenAI', () => {
  it('builds an explicit backend whatever the environment says', () => {
    const saved = process.env.GOOGLE_GENAI_USE_VERTEXAI;
    process.env.GOOGLE_GENAI_USE_VERTEXAI = 'true';
    try {
      expect(createGenAI({ kind: 'api-key', apiKey: 'k' }).vertexai).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_GENAI_USE_VERTEXAI;
      else process.env.GOOGLE_GENAI_USE_VERTEXAI = saved;
    }
    expect(createGenAI({ kind: 'vertex', project: 'my-project', location: 'us-central1' }).vertexai).toBe(true);
  });
});

describe('redactKey', () => {
  it('hides API keys in URLs and bearer tokens', () => {
    expect(redactKey('wss://h/ws/x?key=SECRET1 failed')).toBe('wss://h/ws/x?key=[redacted] failed');
    expect(redactKey('authorization: Bearer ya29.SECRET2, retry')).toBe('authorization: Bearer [redacted], retry');
    expect(redactKey('{"access_token":"ya29.SECRET3","expires_in":3599}')).toBe('{"access_token":"[redacted]","expires_in":3599}');
  });
});

describe('explainSetupFailure', () => {
  const vertex = { kind: 'vertex', project: 'my-project', location: 'us-central1' } as const;
  const failed = (status: number): string => `Live connection failed before setup completed: Unexpected server response: ${status}`;

  it('says what to check on Vertex AI, and leaves API-key errors alone', () => {
    expect(explainSetupFailure(vertex, failed(401))).toMatch(/Vertex AI refused the credentials: check Application Default Credentials/);
    expect(explainSetupFailure(vertex, failed(403))).toMatch(/Vertex AI User role .* in project my-project/);
    expect(explainSetupFailure(vertex, 'boom', false)).toBe('boom (Application Default Credentials could not produce an access token for Vertex AI)');
    expect(explainSetupFailure(vertex, failed(500))).toBe(failed(500));
    expect(explainSetupFailure({ kind: 'api-key', apiKey: 'k' }, failed(401), false)).toBe(failed(401));
  });
});
