import type { Server } from 'node:http';
import type { BrowserPhone } from '../browser-phone/browser-phone.js';
import type { EarlyConversations } from '../call/early-conversations.js';
import type { Logger } from '../observability/logger.js';
import type { CallRecordings } from '../recording/call-recordings.js';
import type { CallStateStore } from '../state/call-state.js';
import type { MediaStreamServer } from '../telephony/media-stream-server.js';
import type { Admission } from './admission.js';
import type { CallWiring } from './call-wiring.js';
import type { CallKeeping } from './observability.js';
import { closeServer } from './http-server.js';
import type { LocalVad } from './local-vad.js';

/** Everything a stop has to close, in the order it closes them. */
export interface ServiceParts {
  log: Logger;
  admission: Admission;
  media: MediaStreamServer;
  early: EarlyConversations;
  wiring: CallWiring;
  server: Server;
  browserPhone: BrowserPhone | undefined;
  state: CallStateStore;
  recordings: CallRecordings | undefined;
  vad: LocalVad | undefined;
  keeping: CallKeeping;
}

/** How long a drain sleeps at most between looks at the calls still in progress. */
const DRAIN_CHECK_MS = 1_000;

/**
 * Stops at once: no new calls or streams, every call ended (as a lost stream, so Twilio's `<Connect action>` may
 * continue it on another instance), the server closed; then waits for what the ended calls still write.
 */
export async function stopService(parts: ServiceParts): Promise<void> {
  parts.admission.stopAccepting();
  parts.media.close();
  parts.early.closeAll();
  parts.wiring.endAll();
  await closeServer(parts.server);
  parts.browserPhone?.close();
  await parts.wiring.idle();
  await parts.state.close();
  await parts.vad?.close();
  await parts.recordings?.idle(); // the calls just ended are still being written
  await parts.keeping.history.close(); // and their records
  await parts.keeping.tracing?.shutdown();
}

/**
 * Graceful shutdown (a deploy must never cut a call): stop taking calls at once (readiness 503, the busy answer
 * to new calls), let calls in progress finish for up to `timeoutMs`, then stop.
 */
export async function drainService(parts: ServiceParts, timeoutMs: number): Promise<{ endedByTimeout: number }> {
  const { calls, ended } = parts.wiring;
  parts.admission.stopAccepting();
  parts.log.info({ activeCalls: calls.size, drainTimeoutMs: timeoutMs }, 'draining: no new calls; waiting for calls in progress to end');
  const deadline = Date.now() + timeoutMs;
  while (calls.size > 0 && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        ended.off('ended', wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.min(DRAIN_CHECK_MS, Math.max(0, deadline - Date.now())));
      ended.once('ended', wake);
    });
  }
  const endedByTimeout = calls.size;
  if (endedByTimeout > 0) parts.log.warn({ endedByTimeout }, 'drain timeout: ending the calls still in progress');
  await stopService(parts);
  return { endedByTimeout };
}
