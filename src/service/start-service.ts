import { AgentDirectory } from '../agents/agent-directory.js';
import type { Agent } from '../agents/agent.js';
import { browserPhoneAccessKey, type AccessKeySource } from '../browser-phone/access-key.js';
import { BrowserPhone } from '../browser-phone/browser-phone.js';
import { CallRegistry } from '../call/call-registry.js';
import { EarlyConversations } from '../call/early-conversations.js';
import type { PhoneCall } from '../call/phone-call.js';
import type { RealtimeModel } from '../model/realtime-model.js';
import type { ScriptedModel } from '../model/scripted/scripted-model.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { CallRecordings } from '../recording/call-recordings.js';
import { publicHttpsUrl, type Config } from '../settings/config.js';
import type { CallStateStore } from '../state/call-state.js';
import { openCallStateStore } from '../state/open-call-state.js';
import { MediaStreamServer, type MediaStreamServerDeps } from '../telephony/media-stream-server.js';
import { PendingOutboundCalls } from '../telephony/outbound-calls.js';
import { BROWSER_PHONE_PATH, RECORDING_STATUS_PATH } from '../telephony/routes.js';
import { StreamTokenStore } from '../telephony/stream-tokens.js';
import { createTwilioCallControl, createTwilioRecordings } from '../telephony/twilio-rest.js';
import { createWarmTransfers } from '../telephony/warm-transfer.js';
import { DefinitionError } from '../tools/tool.js';
import { LocalVadUnavailableError } from '../turn-detection/silero-vad.js';
import { Admission } from './admission.js';
import { CallWiring } from './call-wiring.js';
import { httpRoutes } from './http-routes.js';
import { listen, pageOrigin } from './http-server.js';
import { createModel } from './model.js';
import { loadLocalVad, type LocalVad } from './local-vad.js';
import { openCallKeeping } from './observability.js';
import { drainService, stopService, type ServiceParts } from './shutdown.js';
import { webhookAnswers } from './webhook-answers.js';

export interface ServiceOptions {
  config: Config;
  log: Logger;
  /** The agents this service runs (at least one); which answers a call is decided by the number called. */
  agents: readonly Agent[];
  /** Replaces the realtime model (default: Gemini Live through the SDK, or the local stand-in in local mode). */
  model?: RealtimeModel;
  /** Replaces fetch for HTTP tools (tests). */
  fetch?: typeof fetch;
}

export interface RunningService {
  calls: CallRegistry<PhoneCall>;
  /** The local base URL, e.g. http://127.0.0.1:8080 (the port is real even when 0 was asked for). */
  localUrl: string;
  /** Stops taking calls, lets calls in progress finish for up to `timeoutMs`, then stops (shutdown.ts). */
  drain(timeoutMs: number): Promise<{ endedByTimeout: number }>;
  /** Ends every call and stops at once. */
  stop(): Promise<void>;
  /** What the server is bound to, e.g. `0.0.0.0:8080` (every interface). */
  boundAddress: string;
  /** The browser phone's URL with its access key in the fragment, when it is on (print it, never log it). */
  browserPhoneUrl: string | undefined;
  /** Where that key came from: one made for this start is printed; BROWSER_PHONE_KEY's and a fleet's are not. */
  browserPhoneKeySource: AccessKeySource | undefined;
  /** Local mode (no Gemini credential): the stand-in model the calls talk to; its journals say what it heard and did. */
  localModel: ScriptedModel | undefined;
}

/**
 * How long a session opened at the webhook waits for its stream. Twilio connects the stream within a second or
 * two of the TwiML; a stream that went to another instance (or never came) must not leave a paid session open.
 */
export const PRE_OPENED_SESSION_TIMEOUT_MS = 15_000;

/**
 * The service, put together from its parts, then listening: the agents, the shared call state, the model, who
 * may call (admission), how webhooks are answered, how a stream becomes a call, the HTTP routes and the media
 * WebSocket, and how it all stops (shutdown.ts).
 */
export async function startService({ config, log, agents: agentList, fetch, model: givenModel }: ServiceOptions): Promise<RunningService> {
  const { model, localModel } = createModel(config, givenModel);
  // Every agent problem at once (the model's included: an unknown voice), and the local VAD's, before anything listens.
  const { agents, vad } = await agentsAndVad(agentList, config, model, log, fetch);
  const metrics = createMetrics({ defaultLabels: { instance_id: config.fleet.instanceId } });
  /** Everything another instance may need about a call: Redis with REDIS_URL, else this process. */
  const state = openCallStateStore({ redisUrl: config.stores.redisUrl, maxCallDurationMs: config.limits.maxCallDurationMs, log, onRedisError: () => metrics.redisErrors.inc() });
  const recordings = config.recording.enabled ? new CallRecordings({ dir: config.recording.dir, log, retentionDays: config.recording.retentionDays }) : undefined;
  const keeping = await openCallKeeping(config, log, metrics);

  // Instant greeting: an inbound call's model session opens at the webhook, its greeting ready for the stream.
  const early = new EarlyConversations(model, log, PRE_OPENED_SESSION_TIMEOUT_MS, config.limits.maxConcurrentCalls, () => metrics.preOpenedSessionsExpired.inc());
  /** Browser phone sessions' stream tokens: a browser call lives on the instance that issued its session. */
  const browserTokens = new StreamTokenStore();
  const pendingOutbound = new PendingOutboundCalls();
  const calls = new CallRegistry<PhoneCall>();
  const admission = new Admission(config.limits.maxConcurrentCalls, state, {
    activeCalls: () => calls.size,
    earlySessions: () => early.size,
    browserSessions: () => browserTokens.outstanding,
    outboundPending: () => pendingOutbound.count,
  });
  const browserPhone = await openBrowserPhone(config, agents, { state, tokens: browserTokens, log, admission });
  const callControl = createTwilioCallControl(config.twilio);
  const wiring = new CallWiring({
    config,
    log,
    calls,
    agents,
    model,
    state,
    early,
    metrics,
    callControl,
    warmTransfers: createWarmTransfers({ callControl, state, urls: { publicOrigin: config.publicUrl.origin } }),
    twilioRecordings: config.recording.twilio ? createTwilioRecordings(config.twilio, publicHttpsUrl(config, RECORDING_STATUS_PATH)) : undefined,
    recordings,
    browserPhone: browserPhone?.phone,
    vad: vad?.service,
    keeping,
  });

  const answers = webhookAnswers({ config, agents, state, admission, early, pendingOutbound });
  const routes = httpRoutes({
    config,
    log,
    agents,
    answers,
    admission,
    metrics,
    pendingOutbound,
    browserPhone: browserPhone?.phone,
    history: keeping.history,
    activeCalls: () => calls.size,
    state,
    onAnsweredBy: (callSid, answeredBy) => wiring.twilioAnsweredBy(callSid, answeredBy),
  });
  const media = new MediaStreamServer({
    config,
    log,
    redeem: streamTokenRedeemer(state, browserTokens),
    isCallActive: (callSid) => calls.has(callSid),
    ...(browserPhone === undefined ? {} : { browserPhone: browserPhone.phone }),
    onStream: (stream) => wiring.start(stream),
  });
  const { server, port, localUrl, boundAddress } = await listen(routes, media, { ...config, log });

  const parts: ServiceParts = { log, admission, media, early, wiring, server, browserPhone: browserPhone?.phone, state, recordings, vad, keeping };
  return {
    calls,
    localUrl,
    drain: (timeoutMs) => drainService(parts, timeoutMs),
    stop: () => stopService(parts),
    boundAddress,
    browserPhoneUrl: browserPhone === undefined ? undefined : `${pageOrigin(config.host, port)}${BROWSER_PHONE_PATH}#key=${browserPhone.key}`,
    browserPhoneKeySource: browserPhone?.keySource,
    localModel,
  };
}

/**
 * The agents, checked against the model, and the neural VAD when an agent detects turns locally with it: every
 * problem of either at once (DefinitionError), so one start names all of them.
 */
async function agentsAndVad(agentList: readonly Agent[], config: Config, model: RealtimeModel, log: Logger, fetch: typeof globalThis.fetch | undefined): Promise<{ agents: AgentDirectory; vad: LocalVad | undefined }> {
  const problems: string[] = [];
  let agents: AgentDirectory | undefined;
  try {
    agents = new AgentDirectory(agentList, {
      transferNumber: config.tools.transferNumber,
      transferMode: config.tools.transferMode,
      toolWebhookSecret: config.tools.webhookSecret,
      model,
      turnDetection: config.turnDetection,
      ...(fetch === undefined ? {} : { fetch }),
    });
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    problems.push(...error.problems);
  }
  const vad = await loadLocalVad(agentList, config.turnDetection, log).catch((error: unknown) => {
    if (!(error instanceof LocalVadUnavailableError)) throw error;
    problems.push(error.message);
    return undefined;
  });
  if (agents === undefined || problems.length > 0) {
    await vad?.close();
    throw new DefinitionError(problems);
  }
  return { agents, vad };
}

/**
 * Redeems a stream's token once: a Twilio stream's in the call state (fleet-wide), a browser stream's where its
 * session was issued. A failover's stream carries the call's latest resumption handle.
 */
function streamTokenRedeemer(state: CallStateStore, browserTokens: StreamTokenStore): MediaStreamServerDeps['redeem'] {
  return async (callSid, token, browserStream) => {
    if (browserStream) {
      const call = browserTokens.redeem(callSid, token);
      return call === undefined ? undefined : { call, resumptionHandle: undefined, failover: false };
    }
    const redeemed = await state.redeem(callSid, token);
    return redeemed === undefined ? undefined : { call: redeemed.call, resumptionHandle: redeemed.failover ? redeemed.resumptionHandle : undefined, failover: redeemed.failover };
  };
}

/**
 * The browser phone, when it is on: a page at /phone for the default agent, opened with its access key. A fleet
 * agrees on one key through the shared state, so the page may reach any instance.
 */
async function openBrowserPhone(
  config: Config,
  agents: AgentDirectory,
  { state, tokens, log, admission }: { state: CallStateStore; tokens: StreamTokenStore; log: Logger; admission: Admission },
): Promise<{ phone: BrowserPhone; key: string; keySource: AccessKeySource } | undefined> {
  const pageAgent = agents.defaultAgent ?? agents.all[0];
  if (!config.browserPhone.enabled || pageAgent === undefined) return undefined;
  const { key, source } = await browserPhoneAccessKey({ configured: config.browserPhone.key, fleet: state.shared ? state : undefined }).catch(async (error: unknown) => {
    await state.close();
    throw error;
  });
  const phone = new BrowserPhone({
    accessKey: key,
    tokens,
    log,
    refuseReason: () => admission.simpleRefusal(),
    model: config.localModel ? 'local' : 'gemini',
    agent: pageAgent,
    toolTimeoutMs: config.tools.timeoutMs,
    instanceId: config.fleet.instanceId,
  });
  return { phone, key, keySource: source };
}
