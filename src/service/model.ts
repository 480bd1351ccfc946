import { createLocalModel } from '../local-agent/local-agent.js';
import { createGeminiModel } from '../model/gemini/gemini-model.js';
import type { RealtimeModel } from '../model/realtime-model.js';
import type { ScriptedModel } from '../model/scripted/scripted-model.js';
import type { Config } from '../settings/config.js';

export interface ServiceModel {
  model: RealtimeModel;
  /** Local mode (no Gemini credential): the stand-in model the calls talk to; its journals say what it heard and did. */
  localModel: ScriptedModel | undefined;
}

/**
 * The one place the service decides which realtime model its calls talk to: the one given (any implementation of
 * the model contract, docs/realtime-model.md), Gemini Live through the SDK, or, without a Gemini credential, the
 * local stand-in.
 */
export function createModel(config: Config, given: RealtimeModel | undefined): ServiceModel {
  if (given !== undefined) return { model: given, localModel: undefined };
  const { auth, model, apiVersion, setupTimeoutMs, baseUrl } = config.gemini;
  if (auth === undefined) {
    const localModel = createLocalModel();
    return { model: localModel, localModel };
  }
  return { model: createGeminiModel({ auth, model, apiVersion, setupTimeoutMs, ...(baseUrl === undefined ? {} : { baseUrl }) }), localModel: undefined };
}
