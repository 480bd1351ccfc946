import express, { type Express } from 'express';
import type { AgentDirectory } from '../agents/agent-directory.js';
import type { BrowserPhone } from '../browser-phone/browser-phone.js';
import type { TwilioAnsweredBy } from '../domain/answered-by.js';
import type { CallHistory } from '../history/call-history.js';
import type { Logger } from '../observability/logger.js';
import { metricsHandler, METRICS_PATH, type AppMetrics } from '../observability/metrics.js';
import type { Config } from '../settings/config.js';
import type { CallStateStore } from '../state/call-state.js';
import { handleCallStatusWebhook } from '../telephony/call-status-webhook.js';
import { createOutboundCallPlacer, isFinalCallStatus, RollingWindowLimit, type PendingOutboundCalls } from '../telephony/outbound-calls.js';
import { outboundCallsRoute } from '../telephony/outbound-calls-endpoint.js';
import {
  AMD_STATUS_PATH,
  BROWSER_PHONE_PATH,
  CALL_STATUS_PATH,
  HEALTH_PATH,
  OUTBOUND_CALLS_PATH,
  READY_PATH,
  RECORDING_STATUS_PATH,
  STREAM_ENDED_PATH,
  STREAM_STATUS_ROUTE,
  TRANSFER_ACCEPTED_PATH,
  TRANSFER_ENDED_PATH,
  TRANSFER_WHISPER_PATH,
  VOICE_WEBHOOK_PATH,
} from '../telephony/routes.js';
import { handleAmdStatus, handleRecordingStatus, handleStreamStatus } from '../telephony/twilio-callbacks.js';
import { twilioSignedWebhook } from '../telephony/twilio-webhook-auth.js';
import { handleTransferAccepted, handleTransferEnded, handleTransferWhisper } from '../telephony/warm-transfer.js';
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
  /** The call history: its API and the call inspector, only with ADMIN_API_KEY. */
  history: CallHistory;
  activeCalls: () => number;
  /** Warm transfers' whisper and acceptance. */
  state: CallStateStore;
  /** Twilio's answering-machine verdict for a call we placed, to the call wherever it lives. */
  onAnsweredBy: (callSid: string, answeredBy: TwilioAnsweredBy) => void;
}

/** The paths where Twilio expects TwiML back: an error there is answered with a hang-up. */
const TWIML_PATHS = [VOICE_WEBHOOK_PATH, STREAM_ENDED_PATH, TRANSFER_WHISPER_PATH, TRANSFER_ACCEPTED_PATH, TRANSFER_ENDED_PATH];

/**
 * Every HTTP route of the service. Each one is authenticated its own way: Twilio's signature on its webhooks, a
 * bearer key on `/metrics`, `POST /calls` and the call history's API, the page's key on the browser phone; a route whose credential is not
 * configured does not exist (404), rather than checking against an empty secret.
 */
export function httpRoutes(deps: HttpRouteDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Before Twilio's: GET /calls is the inspector's page, POST /calls places a call.
  const historyRoutes = deps.config.history.apiKey === undefined ? undefined : deps.history.routes(deps.config.history.apiKey);
  if (historyRoutes !== undefined) app.use(historyRoutes);
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
  app.use(errorHandler({ log: deps.log, twiml: { paths: TWIML_PATHS, body: voiceTwiml({ kind: 'hang-up', reason: 'error' }) } }));
  return app;
}

/**
 * Twilio's webhooks: a call comes in, its stream ended, the progress of a call we placed; and what Twilio reports
 * (docs/twilio.md): streams, answering-machine verdicts, recordings, warm transfers.
 */
function twilioRoutes(app: Express, deps: HttpRouteDeps): void {
  const { config, log, answers, pendingOutbound, state } = deps;
  if (!config.telephony.enabled) {
    app.use([VOICE_WEBHOOK_PATH, CALL_STATUS_PATH, OUTBOUND_CALLS_PATH, AMD_STATUS_PATH, RECORDING_STATUS_PATH, '/transfer'], (_req, res) => {
      res.status(404).type('text/plain').send('Not found: Twilio is not configured on this server');
    });
    return;
  }
  const signed = (name: string) => twilioSignedWebhook({ publicUrl: config.publicUrl, authToken: config.twilio.authToken, accountSid: config.twilio.accountSid, name, log });
  app.post(VOICE_WEBHOOK_PATH, ...signed('voice webhook'), handleVoiceWebhook({ log, answer: answers.answerCall }));
  app.post(STREAM_ENDED_PATH, ...signed('stream-ended action'), handleStreamEnded({ log, answer: (callSid) => answers.continueCall(callSid) }));
  const onStatus = ({ callSid, status }: { callSid: string; status: string }): void => {
    if (isFinalCallStatus(status)) pendingOutbound.release(callSid); // busy, no answer, failed: never answered
  };
  app.post(CALL_STATUS_PATH, ...signed('call status callback'), handleCallStatusWebhook({ log, onStatus }));
  app.post(AMD_STATUS_PATH, ...signed('AMD status callback'), handleAmdStatus({ log, onAnsweredBy: deps.onAnsweredBy }));
  app.post(STREAM_STATUS_ROUTE, ...signed('stream status callback'), handleStreamStatus({ log }));
  app.post(RECORDING_STATUS_PATH, ...signed('recording status callback'), handleRecordingStatus({ log }));
  app.post(TRANSFER_WHISPER_PATH, ...signed('transfer whisper'), handleTransferWhisper({ state, urls: { publicOrigin: config.publicUrl.origin }, log }));
  app.post(TRANSFER_ACCEPTED_PATH, ...signed('transfer accepted'), handleTransferAccepted({ state, log }));
  app.post(TRANSFER_ENDED_PATH, ...signed('transfer dial action'), handleTransferEnded({ state, reconnect: answers.continueCall, log }));
}

/** `POST /calls`: placing calls for API clients, only with OUTBOUND_API_KEY (and the number they come from). */
function outboundRoute(app: Express, { config, log, agents, admission, pendingOutbound }: HttpRouteDeps): void {
  const { apiKey, callsPerMinute, machineDetection } = config.outbound;
  const from = config.twilio.phoneNumber;
  if (apiKey === undefined || from === undefined) return;
  const route = outboundCallsRoute({
    apiKey,
    ownNumber: from,
    placer: createOutboundCallPlacer({ rest: config.twilio, from, publicUrl: config.publicUrl, machineDetection }),
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
