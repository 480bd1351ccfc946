import { describe, expect, it } from 'vitest';
import { apiVersionProblem, createGenAI, defaultApiVersion, explainSetupFailure, readGeminiAuth, type Env } from '../../../src/model/gemini/gemini-auth.js';
import { redactKey } from '../../../src/model/gemini/live-session.js';

function read(env: Env): { auth: ReturnType<typeof readGeminiAuth>; problems: string[] } {
  const problems: string[] = [];
  return { auth: readGeminiAuth(env, problems), problems };
}

describe('readGeminiAuth', () => {
  it('reads an API key (GEMINI_API_KEY, else GOOGLE_API_KEY)', () => {
    expect(read({ GEMINI_API_KEY: 'k1' })).toEqual({ auth: { kind: 'api-key', apiKey: 'k1' }, problems: [] });
    expect(read({ GOOGLE_API_KEY: 'k2' })).toEqual({ auth: { kind: 'api-key', apiKey: 'k2' }, problems: [] });
    expect(read({ GEMINI_API_KEY: 'same', GOOGLE_API_KEY: 'same' }).auth).toEqual({ kind: 'api-key', apiKey: 'same' });
  });

  it('returns nothing and no problem when nothing is configured (the caller decides: local mode or error)', () => {
    expect(read({})).toEqual({ auth: undefined, problems: [] });
    expect(read({ GOOGLE_GENAI_USE_VERTEXAI: 'false', GEMINI_API_KEY: '  ' })).toEqual({ auth: undefined, problems: [] });
  });

  it('ignores project and location without Vertex AI (the SDK does too)', () => {
    expect(read({ GEMINI_API_KEY: 'k', GOOGLE_CLOUD_PROJECT: 'my-project', GOOGLE_CLOUD_LOCATION: 'us-central1' }).auth).toEqual({
      kind: 'api-key',
      apiKey: 'k',
    });
  });

  it.each(['true', 'TRUE', '1'])('selects Vertex AI with GOOGLE_GENAI_USE_VERTEXAI=%s', (flag) => {
    expect(read({ GOOGLE_GENAI_USE_VERTEXAI: flag, GOOGLE_CLOUD_PROJECT: 'my-project-123', GOOGLE_CLOUD_LOCATION: 'us-central1' })).toEqual({
      auth: { kind: 'vertex', project: 'my-project-123', location: 'us-central1' },
      problems: [],
    });
  });

  it('also honours the SDK newer GOOGLE_GENAI_USE_ENTERPRISE', () => {
    expect(read({ GOOGLE_GENAI_USE_ENTERPRISE: 'true', GOOGLE_CLOUD_PROJECT: 'my-project', GOOGLE_CLOUD_LOCATION: 'global' }).auth).toMatchObject({
      kind: 'vertex',
      location: 'global',
    });
    const { auth, problems } = read({
      GOOGLE_GENAI_USE_ENTERPRISE: 'false',
      GOOGLE_GENAI_USE_VERTEXAI: 'true',
      GOOGLE_CLOUD_PROJECT: 'my-project',
      GOOGLE_CLOUD_LOCATION: 'us-central1',
    });
    expect(auth).toBeUndefined();
    expect(problems).toEqual(['GOOGLE_GENAI_USE_VERTEXAI and GOOGLE_GENAI_USE_ENTERPRISE disagree: set only one of them']);
  });

  it('names every Vertex AI problem at once', () => {
    const { auth, problems } = read({ GOOGLE_GENAI_USE_VERTEXAI: 'true', GEMINI_API_KEY: 'k', GOOGLE_VERTEX_BASE_URL: 'ftp://x' });
    expect(auth).toBeUndefined();
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^GOOGLE_CLOUD_PROJECT is required with GOOGLE_GENAI_USE_VERTEXAI=true/);
    expect(problems[1]).toMatch(/^GOOGLE_CLOUD_LOCATION is required with GOOGLE_GENAI_USE_VERTEXAI=true/);
    expect(problems[2]).toMatch(/^GEMINI_API_KEY is set but GOOGLE_GENAI_USE_VERTEXAI=true selects Vertex AI/);
    expect(problems[3]).toBe('GOOGLE_VERTEX_BASE_URL must be an http(s) URL (got "ftp://x")');
  });

  it('rejects malformed project, location and flag values', () => {
    const { auth, problems } = read({ GOOGLE_GENAI_USE_VERTEXAI: 'yes', GOOGLE_CLOUD_PROJECT: 'My Project', GOOGLE_CLOUD_LOCATION: 'US Central' });
    expect(auth).toBeUndefined();
    expect(problems).toEqual(['GOOGLE_GENAI_USE_VERTEXAI must be true, false, 1 or 0 (got "yes")']);
    const vertex = read({ GOOGLE_GENAI_USE_VERTEXAI: '1', GOOGLE_CLOUD_PROJECT: 'My Project', GOOGLE_CLOUD_LOCATION: 'US Central' });
    expect(vertex.problems).toEqual([
      'GOOGLE_CLOUD_PROJECT must be a project id: 6-30 lowercase letters, digits or hyphens, starting with a letter (got "My Project")',
      'GOOGLE_CLOUD_LOCATION must be a region such as us-central1, europe-west4 or global (got "US Central")',
    ]);
  });

  it('refuses two different API keys', () => {
    expect(read({ GEMINI_API_KEY: 'a', GOOGLE_API_KEY: 'b' })).toEqual({
      auth: undefined,
      problems: ['GEMINI_API_KEY and GOOGLE_API_KEY are both set, to different keys: set only one'],
    });
  });
});

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
