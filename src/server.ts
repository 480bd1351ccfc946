import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { BROWSER_PHONE_PATH, BrowserPhone, browserCallControl, generateAccessKey, isBrowserPhoneCall } from './browser-phone/browser-phone.js';
import { BookingStore } from './business/booking-store.js';
import { CallRegistry } from './call/call-registry.js';
import { EarlyConversations, type EarlyConversation } from './call/early-conversations.js';
import { PhoneCall, type CallDeps } from './call/phone-call.js';
import type { Config } from './config.js';
import { startLocalAgent, type LocalAgent } from './local-agent/local-agent.js';
import type { Logger } from './observability/logger.js';
import { CallRecordings } from './recording/call-recordings.js';
import { isOutboundCall } from './telephony/call-direction.js';
import { handleCallStatusWebhook } from './telephony/call-status-webhook.js';
import { MediaStreamServer } from './telephony/media-stream-server.js';
import { CALL_STATUS_PATH, createOutboundCallPlacer, isFinalCallStatus, OUTBOUND_CALLS_PATH, PendingOutboundCalls, RollingWindowLimit } from './telephony/outbound-calls.js';
import { outboundCallsRoute } from './telephony/outbound-calls-endpoint.js';
import { STREAM_TOKEN_TTL_MS, StreamTokenStore } from './telephony/stream-tokens.js';
import { createTwilioCallControl } from './telephony/twilio-rest.js';
import { handleVoiceWebhook, MEDIA_STREAM_PATH, VOICE_WEBHOOK_PATH } from './telephony/voice-webhook.js';
import { createToolRegistry } from './tools/index.js';

export interface AppOptions {
  config: Config;
  log: Logger;
  /** Replaces how calls open model sessions (default: Gemini Live through the SDK). */
  openModel?: CallDeps['openModel'];
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
export async function startApp({ config, log, openModel }: AppOptions): Promise<RunningApp> {
  const tokens = new StreamTokenStore();
  const calls = new CallRegistry<PhoneCall>();
  let accepting = true;
  const callsEnded = new EventEmitter();
  // The sample business's database: created and seeded under DATA_DIR on first start.
  const bookings = BookingStore.open({ dataDir: config.restaurant.dataDir, timeZone: config.restaurant.timeZone });
  const tools = {
    registry: createToolRegistry({ bookings, transferNumber: config.tools.transferNumber }),
    callControl: createTwilioCallControl(config.twilio),
    timeoutMs: config.tools.timeoutMs,
  };
  const recordings = config.recording.enabled ? new CallRecordings({ dir: config.recording.dir, log, tools: tools.registry, retentionDays: config.recording.retentionDays }) : undefined;
  // Local mode: without GEMINI_API_KEY calls talk to the built-in Live server (unless a test supplies a model).
  const localAgent = config.localModel && openModel === undefined ? await startLocalAgent() : undefined;
  const openCallModel = openModel ?? localAgent?.openModel;

  // Instant greeting: an inbound call's Gemini session opens at the webhook, its greeting ready for the stream.
  const earlyConversations = new EarlyConversations(
    { gemini: config.gemini, registry: tools.registry, ...(openCallModel === undefined ? {} : { openModel: openCallModel }) },
    log,
    STREAM_TOKEN_TTL_MS,
  );

  // Outbound calls being placed or ringing hold a place too, so placing calls cannot overbook the lines.
  const pendingOutbound = new PendingOutboundCalls();
  const refuseReason = (): 'busy' | 'draining' | undefined =>
    !accepting ? 'draining' : calls.size + tokens.outstanding + pendingOutbound.count >= config.limits.maxConcurrentCalls ? 'busy' : undefined;
  const browserPhoneKey = config.browserPhone.accessKey ?? generateAccessKey();
  const browserPhone = config.browserPhone.enabled
    ? new BrowserPhone({ accessKey: browserPhoneKey, tokens, log, refuseReason, model: config.localModel ? 'local' : 'gemini' })
    : undefined;

  const app = express();
  app.disable('x-powered-by');
  // Without Twilio settings its routes do not exist, rather than checking signatures against an empty token.
  if (!config.telephony.enabled) {
    app.use([VOICE_WEBHOOK_PATH, CALL_STATUS_PATH, OUTBOUND_CALLS_PATH], (_req, res) => {
      res.status(404).type('text/plain').send('Not found: Twilio is not configured on this server');
    });
  }
  app.post(
    VOICE_WEBHOOK_PATH,
    express.urlencoded({ extended: false, limit: '32kb' }),
    handleVoiceWebhook({
      config,
      tokens,
      log,
      // Answered calls whose stream has not started yet hold a place too. An outbound call reaching the webhook
      // has been answered: from here its stream token holds its place instead.
      refuseReason: (callSid) => {
        pendingOutbound.release(callSid);
        return refuseReason();
      },
      onAnswered: (call) => {
        if (!isOutboundCall(call)) earlyConversations.begin(call);
      },
    }),
  );
  app.post(
    CALL_STATUS_PATH,
    express.urlencoded({ extended: false, limit: '32kb' }),
    handleCallStatusWebhook({
      config,
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
        log,
      }),
    );
  }
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', activeCalls: calls.size });
  });
  app.get('/readyz', (_req, res) => {
    res.status(accepting ? 200 : 503).json({ status: accepting ? 'ready' : 'stopping', activeCalls: calls.size });
  });
  if (browserPhone !== undefined) app.use(BROWSER_PHONE_PATH, browserPhone.router());
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });

  const media = new MediaStreamServer({
    config,
    tokens,
    log,
    isCallActive: (callSid) => calls.has(callSid),
    ...(browserPhone === undefined ? {} : { browserPhone }),
    onStream: ({ stream, start, call: info }) => {
      const call = new PhoneCall(stream, start, info, {
        gemini: config.gemini,
        log,
        ...(openCallModel === undefined ? {} : { openModel: openCallModel }),
        // A browser call has no Twilio leg to hang up or redirect; its page watches the call live.
        tools: isBrowserPhoneCall(info) ? { ...tools, callControl: browserCallControl } : tools,
        ...(isBrowserPhoneCall(info) && browserPhone !== undefined ? { observer: browserPhone.events.observerFor(info.callSid) } : {}),
        limits: config.limits,
        ...(recordings === undefined ? {} : { recordings }),
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
    bookings.close();
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
