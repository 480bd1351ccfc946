import type { ConversationSettings, ModelLog } from '../realtime-model.js';
import { geminiBackend, type CreateGenAIOptions, type GeminiAuth } from './gemini-auth.js';
import { liveApiVersion, liveFeatureConfig } from './live-model-features.js';
import { GeminiLiveSession, ModelSetupError } from './live-session.js';

export interface SetupProbeOptions {
  auth: GeminiAuth;
  /** GEMINI_API_VERSION; undefined: the version the agent's features need, else the SDK's default. */
  apiVersion: string | undefined;
  setupTimeoutMs: number;
  baseUrl?: string;
  googleAuthOptions?: CreateGenAIOptions['googleAuthOptions'];
  log: ModelLog;
}

export type SetupProbeResult =
  | { ok: true; setupMs: number; apiVersion: string | undefined }
  | { ok: false; apiVersion: string | undefined; credentials: boolean; message: string };

/**
 * Opens one Live session with an agent's exact settings (model, voice, instructions, tools, features, on the API
 * version a call would use), waits for the service to accept the setup, and closes it at once: nothing is sent, so it
 * costs a setup's worth of tokens at most, a fraction of a cent. What `npm run doctor` asks the real service.
 */
export async function probeLiveSetup(options: SetupProbeOptions, settings: ConversationSettings): Promise<SetupProbeResult> {
  const backend = geminiBackend(options.auth);
  const apiVersion = liveApiVersion(settings.model, backend, settings.features, options.apiVersion);
  const startedAt = performance.now();
  try {
    const session = await GeminiLiveSession.open({
      auth: options.auth,
      model: settings.model,
      apiVersion,
      voice: settings.voice,
      instructions: settings.instructions,
      tools: settings.tools,
      features: liveFeatureConfig(settings.model, backend, settings.features),
      setupTimeoutMs: options.setupTimeoutMs,
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
      ...(options.googleAuthOptions === undefined ? {} : { googleAuthOptions: options.googleAuthOptions }),
      log: options.log,
      onEvent: () => undefined,
    });
    const setupMs = Math.round(performance.now() - startedAt);
    session.close();
    return { ok: true, setupMs, apiVersion };
  } catch (error) {
    const setupError = error instanceof ModelSetupError ? error : new ModelSetupError((error as Error).message, false);
    return { ok: false, apiVersion, credentials: setupError.credentials, message: setupError.message };
  }
}
