import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';
import { redactPhoneNumber } from '../observability/redact.js';
import { OutboundCallError, outboundNumberProblem, type OutboundCallFailure, type OutboundCallPlacer, type PendingOutboundCalls, type RollingWindowLimit } from './outbound-calls.js';

export interface OutboundCallsEndpointDeps {
  /** OUTBOUND_API_KEY; the route is only mounted when it is set. */
  apiKey: string;
  /** TWILIO_PHONE_NUMBER: calls come from it, so it cannot be called. */
  ownNumber: string;
  placer: OutboundCallPlacer;
  pending: PendingOutboundCalls;
  limit: RollingWindowLimit;
  /** Why no call can be taken now (shutting down, or every line in use, pending outbound calls included). */
  refuseReason: () => 'busy' | 'draining' | undefined;
  /** The agent that places the call: the one named, or the default; an error names the agents there are. */
  agentFor: (name: string | undefined) => { name: string } | { error: string };
  log: Logger;
}

/** Seconds a client should wait before retrying when every line is in use. */
const BUSY_RETRY_AFTER_SECONDS = 30;

/** What each placement failure means to the API client: its fault (4xx) or ours and Twilio's (5xx). */
const FAILURE_STATUS: Record<OutboundCallFailure, number> = {
  'invalid-number': 422,
  'number-not-allowed': 422,
  'from-number': 502,
  credentials: 502,
  'rate-limited': 503,
  'twilio-unreachable': 502,
  'twilio-error': 502,
};

/**
 * `POST /calls` with `Authorization: Bearer <OUTBOUND_API_KEY>` and JSON `{"to": "+1…"}`: places an outbound call
 * and answers 201 `{callSid, status}`. The key is checked before the body is read; then the number, capacity and
 * the rate limit. Every refusal is JSON `{error}` with a status that says whose problem it is.
 */
export function outboundCallsRoute(deps: OutboundCallsEndpointDeps): RequestHandler[] {
  const { log } = deps;
  const expectedKeyDigest = sha256(deps.apiKey);

  const authenticate: RequestHandler = (req, res, next) => {
    if (!hasValidBearer(req.header('authorization'), expectedKeyDigest)) {
      RefusalLog.for(log).warn(req.socket.remoteAddress, { hasAuthorization: req.header('authorization') !== undefined }, 'outbound call refused: missing or wrong API key');
      res.status(401).set('WWW-Authenticate', 'Bearer realm="outbound-calls"').json({ error: 'A valid API key is required: Authorization: Bearer <OUTBOUND_API_KEY>' });
      return;
    }
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'Send JSON: Content-Type: application/json, body {"to": "+14155550100"}' });
      return;
    }
    next();
  };

  const place = async (req: Request, res: Response): Promise<void> => {
    const body: unknown = req.body;
    const to = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).to : undefined;
    const problem = outboundNumberProblem(to, deps.ownNumber);
    if (problem !== undefined || typeof to !== 'string') {
      res.status(400).json({ error: `Expected {"to": "+14155550100", "agent"?: "name"}: ${problem ?? 'the number to call is required'}` });
      return;
    }
    const requestedAgent = (body as Record<string, unknown>).agent;
    const agent = deps.agentFor(typeof requestedAgent === 'string' ? requestedAgent : undefined);
    if (requestedAgent !== undefined && typeof requestedAgent !== 'string') {
      res.status(400).json({ error: '"agent" must be the name of an agent' });
      return;
    }
    if ('error' in agent) {
      res.status(400).json({ error: agent.error });
      return;
    }

    const refusal = deps.refuseReason();
    if (refusal === 'draining') {
      res.status(503).json({ error: 'The service is shutting down and takes no new calls.' });
      return;
    }
    if (refusal === 'busy') {
      log.warn({ to: redactPhoneNumber(to) }, 'outbound call refused: every line is in use');
      res.status(503).set('Retry-After', String(BUSY_RETRY_AFTER_SECONDS)).json({ error: 'Every line is in use (MAX_CONCURRENT_CALLS); try again later.' });
      return;
    }
    const slot = deps.limit.take();
    if (!slot.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(slot.retryAfterMs / 1000));
      log.warn({ to: redactPhoneNumber(to), retryAfterSeconds }, 'outbound call refused: OUTBOUND_CALLS_PER_MINUTE reached');
      res.status(429).set('Retry-After', String(retryAfterSeconds)).json({ error: `Too many calls placed in the last minute (OUTBOUND_CALLS_PER_MINUTE); retry in ${retryAfterSeconds} s.` });
      return;
    }

    const reservation = deps.pending.reserve();
    try {
      const call = await deps.placer.place(to, agent.name);
      reservation.placed(call.callSid);
      log.info({ callSid: call.callSid, to: redactPhoneNumber(to), status: call.status, agent: agent.name }, 'outbound call placed through the Twilio REST API');
      res.status(201).json({ callSid: call.callSid, status: call.status, agent: agent.name });
    } catch (error) {
      reservation.failed();
      const failure = error instanceof OutboundCallError ? error : new OutboundCallError('Placing the call failed.', 'twilio-error');
      log.warn({ err: error, to: redactPhoneNumber(to), reason: failure.reason, twilioCode: failure.twilioCode }, 'outbound call could not be placed');
      res.status(FAILURE_STATUS[failure.reason]).json({ error: failure.message, ...(failure.twilioCode === undefined ? {} : { twilioCode: failure.twilioCode }) });
    }
  };

  // A body that is not JSON or too large goes to the server's error handler (src/http/error-handler.ts).
  return [authenticate, express.json({ limit: '1kb', strict: true }), place];
}

/** Constant-time comparison of digests, so neither the key's content nor its length leaks through timing. */
function hasValidBearer(header: string | undefined, expectedKeyDigest: Buffer): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  if (match === null) return false;
  return timingSafeEqual(sha256(match[1] as string), expectedKeyDigest);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
