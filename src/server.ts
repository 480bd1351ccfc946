import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { BookingStore } from './business/booking-store.js';
import { CallRegistry } from './call/call-registry.js';
import { PhoneCall, type CallDeps } from './call/phone-call.js';
import type { Config } from './config.js';
import type { Logger } from './observability/logger.js';
import { MediaStreamServer } from './telephony/media-stream-server.js';
import { StreamTokenStore } from './telephony/stream-tokens.js';
import { createTwilioCallControl } from './telephony/twilio-rest.js';
import { createToolRegistry } from './tools/index.js';
import { handleVoiceWebhook, MEDIA_STREAM_PATH, VOICE_WEBHOOK_PATH } from './telephony/voice-webhook.js';

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

  const app = express();
  app.disable('x-powered-by');
  app.post(
    VOICE_WEBHOOK_PATH,
    express.urlencoded({ extended: false, limit: '32kb' }),
    handleVoiceWebhook({
      config,
      tokens,
      log,
      // Answered calls whose stream has not started yet hold a place too.
      refuseReason: () => (!accepting ? 'draining' : calls.size + tokens.outstanding >= config.limits.maxConcurrentCalls ? 'busy' : undefined),
    }),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', activeCalls: calls.size });
  });
  app.get('/readyz', (_req, res) => {
    res.status(accepting ? 200 : 503).json({ status: accepting ? 'ready' : 'stopping', activeCalls: calls.size });
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });

  const media = new MediaStreamServer({
    config,
    tokens,
    log,
    isCallActive: (callSid) => calls.has(callSid),
    onStream: ({ stream, start, call: info }) => {
      const call = new PhoneCall(stream, start, info, {
        gemini: config.gemini,
        log,
        ...(openModel === undefined ? {} : { openModel }),
        tools,
        limits: config.limits,
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
    for (const call of [...calls.values()]) call.end('server-stopping');
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    bookings.close();
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
  };
}
