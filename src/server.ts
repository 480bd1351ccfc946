import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { agentHooksListener } from './agents/agent-listeners.js';
import { AgentDirectory } from './agents/agent-directory.js';
import type { Agent } from './agents/agent.js';
import { browserPhoneAccessKey, type AccessKeySource } from './browser-phone/access-key.js';
import { BrowserPhone, browserCallControl, isBrowserPhoneCall } from './browser-phone/browser-phone.js';
import { pageEventsListener } from './browser-phone/call-events.js';
import { CallRegistry } from './call/call-registry.js';
import { EarlyConversations, type EarlyConversation } from './call/early-conversations.js';
import { PhoneCall } from './call/phone-call.js';
import { publicHttpsUrl, publicWssUrl, type Config } from './config.js';
import { homeRoutes } from './home-page.js';
import { createLocalModel } from './local-agent/local-agent.js';
import { createGeminiModel } from './model/gemini/gemini-model.js';
import type { RealtimeModel } from './model/realtime-model.js';
import type { ScriptedModel } from './model/scripted/scripted-model.js';
import type { CallEventListener } from './observability/call-events.js';
import { callLogListener } from './observability/call-log.js';
import type { Logger } from './observability/logger.js';
import { CallRecordings } from './recording/call-recordings.js';
import { callDetails, isOutboundCall } from './domain/call-details.js';
import { isLostStream } from './domain/end-reasons.js';
import { handleCallStatusWebhook } from './telephony/call-status-webhook.js';
import { MediaStreamServer } from './telephony/media-stream-server.js';
import { createOutboundCallPlacer, isFinalCallStatus, PendingOutboundCalls, RollingWindowLimit } from './telephony/outbound-calls.js';
import { outboundCallsRoute } from './telephony/outbound-calls-endpoint.js';
import { BROWSER_PHONE_PATH, CALL_STATUS_PATH, HEALTH_PATH, MEDIA_STREAM_PATH, MEDIA_STREAM_PATH_PATTERN, OUTBOUND_CALLS_PATH, READY_PATH, STREAM_ENDED_PATH, VOICE_WEBHOOK_PATH } from './telephony/routes.js';
import { StreamTokenStore } from './telephony/stream-tokens.js';
import { openCallStateStore } from './state/open-call-state.js';
import { createMetrics, METRICS_PATH, metricsHandler } from './observability/metrics.js';
import { metricsListener } from './observability/metrics-listener.js';
import { createTwilioCallControl } from './telephony/twilio-rest.js';
import { twilioSignedWebhook } from './telephony/twilio-webhook-auth.js';
import { BUSY_MESSAGE, handleStreamEnded, handleVoiceWebhook, NO_AGENT_MESSAGE, voiceTwiml, type VoiceAnswer } from './telephony/voice-webhook.js';
import { httpServerOptions, limitConnections } from './http/connection-limits.js';
import { errorHandler } from './http/error-handler.js';

export interface AppOptions {
  config: Config;
  log: Logger;
  /** The agents this service runs (at least one); which answers a call is decided by the number called. */
  agents: readonly Agent[];
  /** Replaces the realtime model (default: Gemini Live through the SDK, or the local stand-in in local mode). */
  model?: RealtimeModel;
  /** Replaces fetch for HTTP tools (tests). */
  fetch?: typeof fetch;
}

export interface RunningApp {
  server: Server;
  calls: CallRegistry<PhoneCall>;
  /** The local base URL, e.g. http://127.0.0.1:8080 (the port is real even when 0 was asked for). */
  localUrl: string;
  /**
   * Graceful shutdown: stop taking calls at once (readiness 503, busy answer to new calls), let
   * calls in progress finish for up to `timeoutMs`, then end the rest and close the server.
   */
  drain(timeoutMs: number): Promise<{ endedByTimeout: number }>;
  stop(): Promise<void>;
  /** The browser phone's URL with its access key in the fragment, when it is enabled (print it, never log it). */
  browserPhoneUrl: string | undefined;
  /** Where that key came from: one of this start is printed; BROWSER_PHONE_KEY's and a fleet's are not. */
  browserPhoneKeySource: AccessKeySource | undefined;
  /** Local mode (no Gemini key): the stand-in model the calls talk to; its journals say what it heard and did. */
  localModel: ScriptedModel | undefined;
}

/**
 * How long a session opened at the webhook waits for its stream. Twilio connects the stream within a second or
 * two of the TwiML; a stream that went to another instance (or never came) must not leave a paid session open.
 */
export const PRE_OPENED_SESSION_TIMEOUT_MS = 15_000;

/** Wires the HTTP routes and the media WebSocket into one server and starts listening. */
export async function startApp({ config, log, agents: agentList, model: givenModel, fetch }: AppOptions): Promise<RunningApp> {
  // Local mode: without a Gemini key calls talk to the local stand-in model (unless a model is given).
  const localModel = config.localModel && givenModel === undefined ? createLocalModel() : undefined;
  const model = givenModel ?? localModel ?? geminiModel(config);
  // Every agent problem at once (the model's included: an unknown voice), before anything listens.
  const agents = new AgentDirectory(agentList, {
    transferNumber: config.tools.transferNumber,
    toolWebhookSecret: config.tools.webhookSecret,
    model,
    ...(fetch === undefined ? {} : { fetch }),
  });
  /** Browser phone sessions' stream tokens: a browser call lives on the instance that issued its session. */
  const tokens = new StreamTokenStore();
  const metrics = createMetrics({ defaultLabels: { instance_id: config.fleet.instanceId } });
  /** Everything another instance may need about a call (Redis with REDIS_URL, else this process). */
  const state = openCallStateStore({ redisUrl: config.fleet.redisUrl, maxCallDurationMs: config.limits.maxCallDurationMs, log, onRedisError: () => metrics.redisErrors.inc() });
  const instanceId = config.fleet.instanceId;
  // One browser phone key for every instance of a fleet: the page may reach any of them.
  const browserPhoneKey = config.browserPhone.enabled
    ? await browserPhoneAccessKey({ configured: config.browserPhone.accessKey, fleet: config.fleet.redisUrl === undefined ? undefined : state }).catch(async (error: unknown) => {
        await state.close();
        throw error;
      })
    : undefined;
  /** Writes to the shared state still in flight; stopping waits for them. */
  const stateWrites = new Set<Promise<void>>();
  const calls = new CallRegistry<PhoneCall>();
  let accepting = true;
  const callsEnded = new EventEmitter();
  const callControl = createTwilioCallControl(config.twilio);
  const recordings = config.recording.enabled ? new CallRecordings({ dir: config.recording.dir, log, retentionDays: config.recording.retentionDays }) : undefined;

  // Instant greeting: an inbound call's model session opens at the webhook, its greeting ready for the stream.
  // A session whose stream went to another instance (or never came) is closed after PRE_OPENED_SESSION_TIMEOUT_MS.
  const earlyConversations = new EarlyConversations(model, log, PRE_OPENED_SESSION_TIMEOUT_MS, config.limits.maxConcurrentCalls, () => metrics.preOpenedSessionsExpired.inc());

  // Outbound calls being placed or ringing hold a place too, so placing calls cannot overbook the lines.
  const pendingOutbound = new PendingOutboundCalls();
  // Calls answered here whose stream has not started hold a place too: counted by their pre-opened sessions (a
  // fleet's tokens are shared; in one process, every outstanding token).
  const answeredHere = (): number => (state.shared ? earlyConversations.size : state.outstandingTokens);
  const refuseReason = (): 'busy' | 'draining' | 'state-unavailable' | undefined =>
    !accepting
      ? 'draining'
      : !state.available
        ? 'state-unavailable'
        : calls.size + answeredHere() + tokens.outstanding + pendingOutbound.count >= config.limits.maxConcurrentCalls
          ? 'busy'
          : undefined;
  /** For /calls and the browser phone: shared state out of reach is one more reason to say busy (503). */
  const simpleRefusal = (): 'busy' | 'draining' | undefined => {
    const refusal = refuseReason();
    return refusal === 'state-unavailable' ? 'busy' : refusal;
  };
  const pageAgent = agents.defaultAgent ?? agents.all[0];
  const browserPhone =
    browserPhoneKey !== undefined && pageAgent !== undefined
      ? new BrowserPhone({ accessKey: browserPhoneKey.key, tokens, log, refuseReason: simpleRefusal, model: config.localModel ? 'local' : 'gemini', agent: pageAgent, toolTimeoutMs: config.tools.timeoutMs, instanceId })
      : undefined;
  // Stream affinity: the stream names this instance, so a load balancer can bring it to the pre-opened session.
  const streamUrl = publicWssUrl(config, `${MEDIA_STREAM_PATH}/${instanceId}`);
  const actionUrl = publicHttpsUrl(config, STREAM_ENDED_PATH);

  /**
   * How the voice webhook answers a signed call: which agent, whether there is room, and the stream token. Each
   * CallSid is answered once: a replayed webhook gets the same answer and opens no second session, and one
   * after the stream started (or the call ended) gets a hang-up.
   */
  const answerCall = async (call: { callSid: string; from: string | undefined; to: string | undefined; direction: string | undefined }, agentName: string | undefined): Promise<VoiceAnswer> => {
    // An outbound call reaching the webhook has been answered: from here its stream token holds its place.
    pendingOutbound.release(call.callSid);
    const outbound = isOutboundCall(call);
    const agent = outbound && agentName !== undefined ? agents.byAgentName(agentName) : agents.forNumber(call.to);
    if (agent === undefined) {
      return { kind: 'refuse', message: NO_AGENT_MESSAGE, reason: outbound ? `no agent named ${agentName ?? '(none)'}` : 'no agent for the number called' };
    }
    const known = await state.get(call.callSid);
    if (known === undefined) {
      const refusal = refuseReason();
      if (refusal !== undefined) return { kind: 'refuse', message: BUSY_MESSAGE, reason: refusal };
    }
    const answer = await state.answer({ ...call, agent: agent.agent.name, instanceId });
    if (answer.outcome === 'refused') return { kind: 'hang-up', reason: 'this call was answered before' };
    if (answer.outcome === 'answered' && !outbound) {
      // Its handles are stored like a stream's own session's: another instance resumes it if this one dies.
      earlyConversations.begin(callDetails(call, agent.agent.name), agent, (handle) => void state.saveResumptionHandle(call.callSid, handle).catch(() => undefined));
    }
    // A repeat names the instance that answered first (and holds the session opened for the call), wherever it lands.
    const answeredBy = answer.outcome === 'repeat' ? answer.instanceId : undefined;
    return { kind: 'stream', streamUrl: answeredBy === undefined ? streamUrl : publicWssUrl(config, `${MEDIA_STREAM_PATH}/${answeredBy}`), token: answer.token, actionUrl };
  };

  /** Twilio's `<Connect action>`: hang up a call ended on purpose; give a lost stream a new one here. */
  const continueCall = async (callSid: string): Promise<VoiceAnswer> => {
    const reissued = await state.reissue(callSid, instanceId);
    if (reissued === undefined) return { kind: 'hang-up', reason: 'the call was ended' };
    return { kind: 'stream', streamUrl, token: reissued.token, actionUrl };
  };

  const app = express();
  app.disable('x-powered-by');
  // Without Twilio settings its routes do not exist, rather than checking signatures against an empty token.
  if (!config.telephony.enabled) {
    app.use([VOICE_WEBHOOK_PATH, CALL_STATUS_PATH, OUTBOUND_CALLS_PATH], (_req, res) => {
      res.status(404).type('text/plain').send('Not found: Twilio is not configured on this server');
    });
  }
  const signed = (name: string) => twilioSignedWebhook({ publicUrl: config.publicUrl, authToken: config.twilio.authToken, accountSid: config.twilio.accountSid, name, log });
  app.post(VOICE_WEBHOOK_PATH, ...signed('voice webhook'), handleVoiceWebhook({ log, answer: answerCall }));
  app.post(STREAM_ENDED_PATH, ...signed('stream-ended action'), handleStreamEnded({ log, answer: continueCall }));
  if (config.metricsApiKey !== undefined) app.get(METRICS_PATH, metricsHandler(metrics, config.metricsApiKey));
  app.post(
    CALL_STATUS_PATH,
    ...signed('call status callback'),
    handleCallStatusWebhook({
      log,
      onStatus: ({ callSid, status }) => {
        if (isFinalCallStatus(status)) pendingOutbound.release(callSid); // busy, no answer, failed: never answered
      },
    }),
  );
  // Placing calls for API clients exists only with a key: without OUTBOUND_API_KEY, /calls is a plain 404.
  const outboundFrom = config.twilio.phoneNumber;
  if (config.outboundCalls.apiKey !== undefined && outboundFrom !== undefined) {
    app.post(
      OUTBOUND_CALLS_PATH,
      ...outboundCallsRoute({
        apiKey: config.outboundCalls.apiKey,
        ownNumber: outboundFrom,
        placer: createOutboundCallPlacer({ rest: config.twilio, from: outboundFrom, publicUrl: config.publicUrl }),
        pending: pendingOutbound,
        limit: new RollingWindowLimit(config.outboundCalls.perMinute, 60_000),
        refuseReason: simpleRefusal,
        agentFor: (name) => {
          const agent = name === undefined ? (agents.defaultAgent ?? agents.all[0]) : agents.byAgentName(name);
          return agent === undefined ? { error: `No agent named "${name}"; the agents are: ${agents.names.join(', ')}` } : { name: agent.agent.name };
        },
        log,
      }),
    );
  }
  app.get(HEALTH_PATH, (_req, res) => {
    res.json({ status: 'ok', activeCalls: calls.size });
  });
  app.get(READY_PATH, (_req, res) => {
    res.status(accepting ? 200 : 503).json({ status: accepting ? 'ready' : 'stopping', activeCalls: calls.size });
  });
  if (browserPhone !== undefined) app.use(BROWSER_PHONE_PATH, browserPhone.router());
  app.use(homeRoutes({ browserPhone: browserPhone !== undefined }));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  // Every route's errors (a body that cannot be parsed, a bug): a short answer, TwiML where Twilio expects it.
  app.use(errorHandler({ log, twiml: { paths: [VOICE_WEBHOOK_PATH, STREAM_ENDED_PATH], body: voiceTwiml({ kind: 'hang-up', reason: 'error' }) } }));

  const media = new MediaStreamServer({
    config,
    log,
    redeem: async (callSid, token, browserPhoneStream) => {
      if (browserPhoneStream) {
        const call = tokens.redeem(callSid, token);
        return call === undefined ? undefined : { call, resumptionHandle: undefined, failover: false };
      }
      const redeemed = await state.redeem(callSid, token);
      return redeemed === undefined ? undefined : { call: redeemed.call, resumptionHandle: redeemed.failover ? redeemed.resumptionHandle : undefined, failover: redeemed.failover };
    },
    isCallActive: (callSid) => calls.has(callSid),
    ...(browserPhone === undefined ? {} : { browserPhone }),
    onStream: ({ stream, call: info, resumptionHandle, failover }) => {
      const agent = agents.byAgentName(info.agent);
      if (agent === undefined) {
        stream.close('agent-gone'); // cannot happen within one process; in a fleet, an agent removed mid-call
        return;
      }
      const browser = isBrowserPhoneCall(info);
      const details = callDetails(info, agent.agent.name);
      const callLog = log.child({ callSid: info.callSid, agent: agent.agent.name });
      const early = failover ? undefined : earlyConversations.take(info.callSid);
      if (failover) {
        metrics.failovers.inc();
        callLog.warn({ resumed: resumptionHandle !== undefined }, 'continuing a call whose stream was lost');
      } else if (!browser && details.direction === 'inbound') {
        // Affinity: the stream reached the instance holding its pre-opened session (hit), or it opens its own.
        metrics.streamAffinity.inc({ result: early === undefined ? 'miss' : 'hit' });
      }
      const pageObserver = browser ? browserPhone?.events.observerFor(info.callSid) : undefined;
      const recorder = recordings?.start({ callSid: info.callSid, streamSid: stream.streamSid, call: details, callLimitMs: config.limits.maxCallDurationMs, log: callLog, tools: agent.tools });
      const listeners: CallEventListener[] = [
        callLogListener(callLog, details, { logTranscripts: config.logTranscripts }),
        ...(recorder === undefined ? [] : [recorder.listener]),
        ...(pageObserver === undefined ? [] : [pageEventsListener(info.callSid, pageObserver)]),
        metricsListener(metrics, details, browser ? 'browser' : 'phone'),
        ...optional(agentHooksListener(agent.agent, details, callLog)),
      ];
      const call = new PhoneCall(stream, details, {
        agent,
        model,
        log,
        // A browser call has no Twilio leg to hang up or redirect; its page watches the call live.
        callControl: browser ? browserCallControl : callControl,
        toolTimeoutMs: config.tools.timeoutMs,
        limits: config.limits,
        listeners,
        ...withEarly(early),
        ...(resumptionHandle === undefined ? {} : { resumptionHandle }),
        // Stored where another instance can resume the conversation if this one dies.
        ...(browser ? {} : { onResumptionHandle: (handle: string) => void state.saveResumptionHandle(info.callSid, handle).catch(() => undefined) }),
        onEnded: (ended, reason) => {
          calls.remove(ended.callSid, ended);
          callsEnded.emit('ended');
          // A lost stream may be continued by Twilio's <Connect action>; anything else ended the call for good.
          if (!browser) {
            const write = state
              .markEnded(ended.callSid, { onPurpose: !isLostStream(reason) })
              .catch((error: unknown) => callLog.warn({ err: error }, 'could not record the end of the call in the shared state'))
              .finally(() => stateWrites.delete(write));
            stateWrites.add(write);
          }
        },
      });
      calls.add(call.callSid, call);
      call.start();
    },
  });

  const server = createServer(httpServerOptions(config.connections), app);
  limitConnections(server, config.connections, log);
  server.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (MEDIA_STREAM_PATH_PATTERN.test(path)) {
      media.handleUpgrade(request, socket, head);
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const localHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const localUrl = `http://${localHost === '0.0.0.0' || localHost === '[::]' ? '127.0.0.1' : localHost}:${address.port}`;

  const stop = async (): Promise<void> => {
    accepting = false;
    media.close();
    earlyConversations.closeAll();
    for (const call of [...calls.values()]) call.end('server-stopping');
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    browserPhone?.close();
    await Promise.all([...stateWrites]);
    await state.close();
    await recordings?.idle(); // the calls just ended are still being written
  };

  return {
    server,
    calls,
    localUrl,
    async drain(timeoutMs) {
      accepting = false;
      log.info({ activeCalls: calls.size, drainTimeoutMs: timeoutMs }, 'draining: no new calls; waiting for calls in progress to end');
      const deadline = Date.now() + timeoutMs;
      while (calls.size > 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(1_000, Math.max(0, deadline - Date.now())));
          callsEnded.once('ended', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const endedByTimeout = calls.size;
      if (endedByTimeout > 0) log.warn({ endedByTimeout }, 'drain timeout: ending the calls still in progress');
      await stop();
      return { endedByTimeout };
    },
    stop,
    browserPhoneUrl: browserPhone === undefined ? undefined : `${pageOrigin(config.host, address.port)}${BROWSER_PHONE_PATH}#key=${browserPhoneKey?.key}`,
    browserPhoneKeySource: browserPhone === undefined ? undefined : browserPhoneKey?.source,
    localModel,
  };
}

/** Gemini Live through the SDK, as the configuration says to reach it. */
function geminiModel(config: Config): RealtimeModel {
  const { auth, apiKey, model, apiVersion, setupTimeoutMs } = config.gemini;
  return createGeminiModel({ auth: auth ?? { kind: 'api-key', apiKey }, model, apiVersion, setupTimeoutMs });
}

/**
 * Where a person on this machine opens the page. Microphones and audio worklets need a secure context, which
 * http://localhost is; a wildcard or loopback bind is reached there, another address as itself.
 */
function pageOrigin(host: string, port: number): string {
  const local = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(host);
  return `http://${local ? 'localhost' : host.includes(':') ? `[${host}]` : host}:${port}`;
}

function withEarly(early: EarlyConversation | undefined): { early?: EarlyConversation } {
  return early === undefined ? {} : { early };
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}
