import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { agentHooksListener } from './agents/agent-listeners.js';
import { AgentDirectory } from './agents/agent-directory.js';
import type { Agent } from './agents/agent.js';
import { BrowserPhone, browserCallControl, generateAccessKey, isBrowserPhoneCall } from './browser-phone/browser-phone.js';
import { pageEventsListener } from './browser-phone/call-events.js';
import { CallRegistry } from './call/call-registry.js';
import { EarlyConversations, type EarlyConversation } from './call/early-conversations.js';
import { PhoneCall } from './call/phone-call.js';
import { publicWssUrl, type Config } from './config.js';
import { homeRoutes } from './home-page.js';
import { startLocalAgent, type LocalAgent } from './local-agent/local-agent.js';
import { createGeminiModel, type OpenGeminiSession } from './model/gemini-model.js';
import type { RealtimeModel } from './model/realtime-model.js';
import type { CallEventListener } from './observability/call-events.js';
import { callLogListener } from './observability/call-log.js';
import type { Logger } from './observability/logger.js';
import { CallRecordings } from './recording/call-recordings.js';
import { callDetails, isOutboundCall } from './domain/call-details.js';
import { handleCallStatusWebhook } from './telephony/call-status-webhook.js';
import { MediaStreamServer } from './telephony/media-stream-server.js';
import { createOutboundCallPlacer, isFinalCallStatus, PendingOutboundCalls, RollingWindowLimit } from './telephony/outbound-calls.js';
import { outboundCallsRoute } from './telephony/outbound-calls-endpoint.js';
import { BROWSER_PHONE_PATH, CALL_STATUS_PATH, HEALTH_PATH, MEDIA_STREAM_PATH, OUTBOUND_CALLS_PATH, READY_PATH, VOICE_WEBHOOK_PATH } from './telephony/routes.js';
import { STREAM_TOKEN_TTL_MS, StreamTokenStore } from './telephony/stream-tokens.js';
import { createTwilioCallControl } from './telephony/twilio-rest.js';
import { twilioSignedWebhook } from './telephony/twilio-webhook-auth.js';
import { BUSY_MESSAGE, handleVoiceWebhook, NO_AGENT_MESSAGE, type VoiceAnswer } from './telephony/voice-webhook.js';

export interface AppOptions {
  config: Config;
  log: Logger;
  /** The agents this service runs (at least one); which answers a call is decided by the number called. */
  agents: readonly Agent[];
  /** Replaces the realtime model (default: Gemini Live through the SDK, or the local Live server in local mode). */
  model?: RealtimeModel;
  /** Replaces how Gemini Live connections are opened (tests, benchmarks); ignored when `model` is given. */
  openModel?: OpenGeminiSession;
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
  /** Local mode (no GEMINI_API_KEY): the built-in Live server the calls talk to. */
  localAgent: LocalAgent | undefined;
}

/** Wires the HTTP routes and the media WebSocket into one server and starts listening. */
export async function startApp({ config, log, agents: agentList, model: givenModel, openModel, fetch }: AppOptions): Promise<RunningApp> {
  // Every agent problem at once, before anything listens.
  const agents = new AgentDirectory(agentList, {
    transferNumber: config.tools.transferNumber,
    toolWebhookSecret: config.tools.webhookSecret,
    defaultModel: config.gemini.model,
    ...(fetch === undefined ? {} : { fetch }),
  });
  const tokens = new StreamTokenStore();
  const calls = new CallRegistry<PhoneCall>();
  let accepting = true;
  const callsEnded = new EventEmitter();
  const callControl = createTwilioCallControl(config.twilio);
  const recordings = config.recording.enabled ? new CallRecordings({ dir: config.recording.dir, log, retentionDays: config.recording.retentionDays }) : undefined;
  // Local mode: without GEMINI_API_KEY calls talk to the built-in Live server (unless a test supplies a model).
  const localAgent = config.localModel && openModel === undefined && givenModel === undefined ? await startLocalAgent() : undefined;
  const openSession = openModel ?? localAgent?.openModel;
  const model =
    givenModel ??
    createGeminiModel({
      apiKey: config.gemini.apiKey,
      ...(config.gemini.auth === undefined ? {} : { auth: config.gemini.auth }),
      model: config.gemini.model,
      apiVersion: config.gemini.apiVersion,
      setupTimeoutMs: config.gemini.setupTimeoutMs,
      ...(openSession === undefined ? {} : { openSession }),
    });

  // Instant greeting: an inbound call's model session opens at the webhook, its greeting ready for the stream.
  const earlyConversations = new EarlyConversations(model, log, STREAM_TOKEN_TTL_MS, config.limits.maxConcurrentCalls);

  // Outbound calls being placed or ringing hold a place too, so placing calls cannot overbook the lines.
  const pendingOutbound = new PendingOutboundCalls();
  const refuseReason = (): 'busy' | 'draining' | undefined =>
    !accepting ? 'draining' : calls.size + tokens.outstanding + pendingOutbound.count >= config.limits.maxConcurrentCalls ? 'busy' : undefined;
  const browserPhoneKey = config.browserPhone.accessKey ?? generateAccessKey();
  const pageAgent = agents.defaultAgent ?? agents.all[0];
  const browserPhone =
    config.browserPhone.enabled && pageAgent !== undefined
      ? new BrowserPhone({ accessKey: browserPhoneKey, tokens, log, refuseReason, model: config.localModel ? 'local' : 'gemini', agent: pageAgent.agent.name })
      : undefined;
  const streamUrl = publicWssUrl(config, MEDIA_STREAM_PATH);

  /** How the voice webhook answers a signed call: which agent, whether there is room, and the stream token. */
  const answerCall = (call: { callSid: string; from: string | undefined; to: string | undefined; direction: string | undefined }, agentName: string | undefined): VoiceAnswer => {
    // An outbound call reaching the webhook has been answered: from here its stream token holds its place.
    pendingOutbound.release(call.callSid);
    const outbound = isOutboundCall(call);
    const agent = outbound && agentName !== undefined ? agents.byAgentName(agentName) : agents.forNumber(call.to);
    if (agent === undefined) {
      return { kind: 'refuse', message: NO_AGENT_MESSAGE, reason: outbound ? `no agent named ${agentName ?? '(none)'}` : 'no agent for the number called' };
    }
    const refusal = refuseReason();
    if (refusal !== undefined) return { kind: 'refuse', message: BUSY_MESSAGE, reason: refusal };
    const token = tokens.issue({ ...call, agent: agent.agent.name });
    if (!outbound) earlyConversations.begin(callDetails(call, agent.agent.name), agent);
    return { kind: 'stream', streamUrl, token };
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
        refuseReason,
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

  const media = new MediaStreamServer({
    config,
    tokens,
    log,
    isCallActive: (callSid) => calls.has(callSid),
    ...(browserPhone === undefined ? {} : { browserPhone }),
    onStream: ({ stream, call: info }) => {
      const agent = agents.byAgentName(info.agent);
      if (agent === undefined) {
        stream.close('agent-gone'); // cannot happen within one process; in a fleet, an agent removed mid-call
        return;
      }
      const browser = isBrowserPhoneCall(info);
      const details = callDetails(info, agent.agent.name);
      const callLog = log.child({ callSid: info.callSid, agent: agent.agent.name });
      const pageObserver = browser ? browserPhone?.events.observerFor(info.callSid) : undefined;
      const recorder = recordings?.start({ callSid: info.callSid, streamSid: stream.streamSid, call: details, callLimitMs: config.limits.maxCallDurationMs, log: callLog, tools: agent.tools });
      const listeners: CallEventListener[] = [
        callLogListener(callLog, details, { logTranscripts: config.logTranscripts }),
        ...(recorder === undefined ? [] : [recorder.listener]),
        ...(pageObserver === undefined ? [] : [pageEventsListener(info.callSid, pageObserver)]),
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
        ...withEarly(earlyConversations.take(info.callSid)),
        onEnded: (ended) => {
          calls.remove(ended.callSid, ended);
          callsEnded.emit('ended');
        },
      });
      calls.add(call.callSid, call);
      call.start();
    },
  });

  const server = createServer(app);
  server.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === MEDIA_STREAM_PATH) {
      media.handleUpgrade(request, socket, head);
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  // A client error (bad request line, reset) must not reach the process as an exception.
  server.on('clientError', (_error, socket) => socket.destroy());

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
    await localAgent?.close();
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
    browserPhoneUrl: browserPhone === undefined ? undefined : `${pageOrigin(config.host, address.port)}${BROWSER_PHONE_PATH}#key=${browserPhoneKey}`,
    localAgent,
  };
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
