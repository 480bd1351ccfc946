import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/settings/config.js';
import { loadConfig } from '../../../src/settings/resolve-config.js';
import { problemsOf } from './problems.js';

/**
 * How Gemini is reached, from the SDK's own variables (the settings read them, once, with the rest): an API key,
 * or Vertex AI with its project and location. Nothing configured is local mode outside production.
 */

const auth = (env: Record<string, string>): Config['gemini']['auth'] => loadConfig(env).gemini.auth;
const problems = (env: Record<string, string>): string[] => problemsOf({ env });
const VERTEX = { GOOGLE_CLOUD_PROJECT: 'my-project-123', GOOGLE_CLOUD_LOCATION: 'us-central1', GEMINI_MODEL: 'gemini-live-2.5-flash' };

describe('Gemini settings from the environment', () => {
  it('read an API key (GEMINI_API_KEY, else GOOGLE_API_KEY), and nothing when nothing is set', () => {
    expect(auth({ GEMINI_API_KEY: 'k1' })).toEqual({ kind: 'api-key', apiKey: 'k1' });
    expect(auth({ GOOGLE_API_KEY: 'k2' })).toEqual({ kind: 'api-key', apiKey: 'k2' });
    expect(auth({ GEMINI_API_KEY: 'same', GOOGLE_API_KEY: 'same' })).toEqual({ kind: 'api-key', apiKey: 'same' });
    expect(auth({})).toBeUndefined();
    expect(auth({ GOOGLE_GENAI_USE_VERTEXAI: 'false', GEMINI_API_KEY: '  ' })).toBeUndefined();
  });

  it('ignore project and location without Vertex AI (the SDK does too)', () => {
    expect(auth({ GEMINI_API_KEY: 'k', GOOGLE_CLOUD_PROJECT: 'my-project', GOOGLE_CLOUD_LOCATION: 'us-central1' })).toEqual({ kind: 'api-key', apiKey: 'k' });
  });

  it.each(['true', 'TRUE', '1'])('select Vertex AI with GOOGLE_GENAI_USE_VERTEXAI=%s', (flag) => {
    expect(auth({ GOOGLE_GENAI_USE_VERTEXAI: flag, ...VERTEX })).toEqual({ kind: 'vertex', project: 'my-project-123', location: 'us-central1' });
  });

  it('also honour the SDK newer GOOGLE_GENAI_USE_ENTERPRISE, and refuse the two set apart', () => {
    expect(auth({ GOOGLE_GENAI_USE_ENTERPRISE: 'true', ...VERTEX, GOOGLE_CLOUD_LOCATION: 'global' })).toMatchObject({ kind: 'vertex', location: 'global' });
    expect(problems({ GOOGLE_GENAI_USE_ENTERPRISE: 'false', GOOGLE_GENAI_USE_VERTEXAI: 'true', ...VERTEX })).toEqual(['GOOGLE_GENAI_USE_VERTEXAI and GOOGLE_GENAI_USE_ENTERPRISE disagree: set only one of them']);
  });

  it('name every Vertex AI problem at once, each by the variable that was set', () => {
    expect(problems({ GOOGLE_GENAI_USE_VERTEXAI: 'true', GEMINI_API_KEY: 'k', GOOGLE_VERTEX_BASE_URL: 'ftp://x' })).toEqual([
      'GOOGLE_VERTEX_BASE_URL (gemini.baseUrl) must be an http(s) URL (got "ftp://x")',
      expect.stringMatching(/^GOOGLE_CLOUD_PROJECT \(gemini\.vertexAI\.project\) is required with Vertex AI/),
      expect.stringMatching(/^GOOGLE_CLOUD_LOCATION \(gemini\.vertexAI\.location\) is required with Vertex AI/),
      expect.stringMatching(/^GEMINI_API_KEY \(gemini\.apiKey\) is set, but Vertex AI .* Application Default Credentials and would ignore it/),
      expect.stringMatching(/^GEMINI_MODEL \(gemini\.model\) is required with Vertex AI/),
    ]);
  });

  it('refuse malformed project, location and switch values', () => {
    // Not selected (the switch is wrong), so project and location are not read.
    expect(problems({ GOOGLE_GENAI_USE_VERTEXAI: 'yes', GOOGLE_CLOUD_PROJECT: 'My Project', GOOGLE_CLOUD_LOCATION: 'US Central' })).toEqual([
      'GOOGLE_GENAI_USE_VERTEXAI must be true, false, 1 or 0 (got "yes")',
    ]);
    expect(problems({ GOOGLE_GENAI_USE_VERTEXAI: '1', ...VERTEX, GOOGLE_CLOUD_PROJECT: 'My Project', GOOGLE_CLOUD_LOCATION: 'US Central' })).toEqual([
      'GOOGLE_CLOUD_PROJECT (gemini.vertexAI.project) must be a project id: 6-30 lowercase letters, digits or hyphens, starting with a letter (got "My Project")',
      'GOOGLE_CLOUD_LOCATION (gemini.vertexAI.location) must be a region such as us-central1, europe-west4 or global (got "US Central")',
    ]);
  });

  it('refuse two different API keys, and name GOOGLE_API_KEY when it is the one set', () => {
    expect(problems({ GEMINI_API_KEY: 'a', GOOGLE_API_KEY: 'b' })).toEqual(['GEMINI_API_KEY and GOOGLE_API_KEY are both set, to different keys: set only one']);
    expect(problems({ GOOGLE_API_KEY: 'has a space' })).toEqual(['GOOGLE_API_KEY (gemini.apiKey) must be the credential as issued, without spaces']);
  });
});
