import type { Agent } from '../agents/agent.js';
import { localDetectorSettings, needsNeuralVad } from '../agents/turn-taking.js';
import type { TurnDetection } from '../model/realtime-model.js';
import type { Logger } from '../observability/logger.js';
import { SileroVad } from '../turn-detection/silero-vad.js';
import { VadService } from '../turn-detection/vad-service.js';

/** The process's neural VAD, and how to let it go. */
export interface LocalVad {
  readonly service: VadService;
  close(): Promise<void>;
}

/**
 * The neural VAD for every call of the process, loaded once at start-up when any agent detects turns locally with
 * it (the agent's `turnDetection`, else TURN_DETECTION); undefined when none does. Throws LocalVadUnavailableError
 * naming every missing piece and the install command. Windows quieter than every such agent's `minSpeechLevelDbfs`
 * are never the caller, so they are not scored.
 */
export async function loadLocalVad(agents: readonly Agent[], defaultDetection: TurnDetection, log: Logger): Promise<LocalVad | undefined> {
  const users = agents.filter((agent) => needsNeuralVad(agent, defaultDetection));
  if (users.length === 0) return undefined;
  const model = await SileroVad.load();
  const skipBelowDbfs = Math.min(...users.map((agent) => localDetectorSettings(agent.turnTaking).minSpeechLevelDbfs));
  const service = new VadService(model, { skipBelowDbfs, onError: (error) => log.error({ err: error }, 'local voice detection failed') });
  log.info({ model: model.modelPath, agents: users.map((agent) => agent.name) }, 'local turn detection: Silero VAD loaded');
  return {
    service,
    async close() {
      await service.close();
      await model.close();
    },
  };
}
