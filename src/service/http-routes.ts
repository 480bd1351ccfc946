import express, { type Express } from 'express';
import type { AgentDirectory } from '../agents/agent-directory.js';
import type { BrowserPhone } from '../browser-phone/browser-phone.js';
import type { Logger } from '../observability/logger.js';
import { metricsHandler, METRICS_PATH, type AppMetrics } from '../observability/metrics.js';
import type { Config } from '../settings/config.js';
import { handleCallStatusWebhook } from '../telephony/call-status-webhook.js';
import { createOutboundCallPlacer, isFinalCallStatus, RollingWindowLimit, type PendingOutboundCalls } from '../telephony/outbound-calls.js';
import { outboundCallsRoute } from '../telephony/outbound-calls-endpoint.js';
import { BROWSER_PHONE_PATH, CALL_STATUS_PATH, HEALTH_PATH, OUTBOUND_CALLS_PATH, READY_PATH, STREAM_ENDED_PATH, VOICE_WEBHOOK_PATH } from '../telephony/routes.js';
import { twilioSignedWebhook } from '../telephony/twilio-webhook-auth.js';
import { handleStreamEnded, handleVoiceWebhook, voiceTwiml } from '../telephony/voice-webhook.js';
import { errorHandler } from '../http/error-handler.js';
import type { Admission } from './admission.js';
import { homeRoutes } from './home-page.js';
import type { WebhookAnswers } from './webhook-answers.js';

export interface HttpRouteDeps {
  config: Config;
  log: Logger;
  agents: AgentDirectory;
  answers: WebhookAnswers;
  admission: Admission;
  metrics: AppMetrics;
  pendingOutbound: PendingOutboundCalls;
  browserPhone: BrowserPhone | undefined;
  activeCalls: () => number;
}

/**
 * Every HTTP route of the service. Each one is authenticated its own way: Twilio's signature on its webhooks, a
 * bearer key on `/metrics` and `POST /calls`, the page's key on the browser phone; a route whose credential is not
 * configured does not exist (404), rather than checking against an empty secret.
 */
export function httpRoutes(deps: HttpRouteDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  twilioRoutes(app, deps);
  if (deps.config.metrics.apiKey !== undefined) app.get(METRICS_PATH, metricsHandler(deps.metrics, deps.config.metrics.apiKey));
  outboundRoute(app, deps);
  app.get(HEALTH_PATH, (_req, res) => {
    res.json({ status: 'ok', activeCalls: deps.activeCalls() });
  });
  app.get(READY_PATH, (_req, res) => {
    const ready = deps.admission.isAccepting;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'stopping', activeCalls: deps.activeCalls() });
  });
  if (deps.browserPhone !== undefined) app.use(BROWSER_PHONE_PATH, deps.browserPhone.router());
  app.use(homeRoutes({ browserPhone: deps.browserPhone !== undefined }));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  // Every route's errors (a body that cannot be parsed, a bug): a short answer, TwiML where Twilio expects it.
  app.use(errorHandler({ log: deps.log, twiml: { paths: [VOICE_WEBHOOK_PATH, STREAM_ENDED_PATH], body: voiceTwiml({ kind: 'hang-up', reason: 'error' }) } }));
  return app;
}

/** Twilio's webhooks: a call comes in, its stream ended, the progress of a call we placed. */
function twilioRoutes(app: Express, { config, log, answers, pendingOutbound }: HttpRouteDeps): void {
  if (!config.telephony.enabled) {
    app.use([VOICE_WEBHOOK_PATH, CALL_STATUS_PATH, OUTBOUND_CALLS_PATH], (_req, res) => {
      res.status(404).type('text/plain').send('Not found: Twilio is not configured on this server');
    });
    return;
  }
  const signed = (name: string) => twilioSignedWebhook({ publicUrl: config.publicUrl, authToken: config.twilio.authToken, accountSid: config.twilio.accountSid, name, log });
  app.post(VOICE_WEBHOOK_PATH, ...signed('voice webhook'), handleVoiceWebhook({ log, answer: answers.answerCall }));
  app.post(STREAM_ENDED_PATH, ...signed('stream-ended action'), handleStreamEnded({ log, answer: answers.continueCall }));
  const onStatus = ({ callSid, status }: { callSid: string; status: string }): void => {
    if (isFinalCallStatus(status)) pendingOutbound.release(callSid); // busy, no answer, failed: never answered
  };
  app.post(CALL_STATUS_PATH, ...signed('call status callback'), handleCallStatusWebhook({ log, onStatus }));
}

/** `POST /calls`: placing calls for API clients, only with OUTBOUND_API_KEY (and the number they come from). */
function outboundRoute(app: Express, { config, log, agents, admission, pendingOutbound }: HttpRouteDeps): void {
  const { apiKey, callsPerMinute } = config.outbound;
  const from = config.twilio.phoneNumber;
  if (apiKey === undefined || from === undefined) return;
  const route = outboundCallsRoute({
    apiKey,
    ownNumber: from,
    placer: createOutboundCallPlacer({ rest: config.twilio, from, publicUrl: config.publicUrl }),
    pending: pendingOutbound,
    limit: new RollingWindowLimit(callsPerMinute, 60_000),
    refuseReason: () => admission.simpleRefusal(),
    agentFor: (name) => {
      const agent = name === undefined ? (agents.defaultAgent ?? agents.all[0]) : agents.byAgentName(name);
      return agent === undefined ? { error: `No agent named "${name}"; the agents are: ${agents.names.join(', ')}` } : { name: agent.agent.name };
    },
    log,
  });
  app.post(OUTBOUND_CALLS_PATH, ...route);
}
