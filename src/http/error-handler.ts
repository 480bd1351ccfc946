import type { ErrorRequestHandler, Request } from 'express';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';

export interface ErrorHandlerOptions {
  log: Logger;
  /** Routes Twilio requests for TwiML: their errors answer with this TwiML (a hang-up), not JSON. */
  twiml: { paths: readonly string[]; body: string };
}

/**
 * Messages for the body parser's errors (body-parser's `type` field: https://github.com/expressjs/body-parser#errors),
 * worded for the client; anything else is "Bad request." or "Internal error.".
 */
const CLIENT_MESSAGES: Record<string, string> = {
  'entity.too.large': 'The body is too large.',
  'parameters.too.many': 'The form has too many parameters.',
  'charset.unsupported': 'Unsupported charset: send UTF-8.',
  'encoding.unsupported': 'Unsupported Content-Encoding.',
  'request.aborted': 'The request was aborted.',
  'request.size.invalid': 'The body does not match its Content-Length.',
};

/**
 * The one error handler, after every route: whatever failed (a body that cannot be parsed, a bug), the client gets
 * its status and a short message, as JSON, or as TwiML on Twilio's voice routes; never a stack or a path.
 * A client's error (4xx) is a refusal: logged once per source and window (RefusalLog), with its type and never
 * the request body (body-parser's errors carry it). Ours (5xx) is logged as an error, likewise without the body.
 */
export function errorHandler({ log, twiml }: ErrorHandlerOptions): ErrorRequestHandler {
  const refusals = RefusalLog.for(log);
  return (error: unknown, req, res, _next) => {
    const status = httpStatusOf(error);
    const type = typeof (error as { type?: unknown })?.type === 'string' ? (error as { type: string }).type : undefined;
    const message = clientMessage(status, type, req);
    const where = { method: req.method, path: req.path, status, ...(type === undefined ? {} : { type }) };
    if (status >= 500) log.error({ ...where, err: withoutBody(error) }, 'request failed');
    else refusals.warn(req.socket.remoteAddress, where, `request refused: ${message}`);
    if (res.headersSent) {
      req.socket.destroy(); // half an answer is out: the connection cannot be trusted to carry a next one
      return;
    }
    res.status(status);
    if (twiml.paths.includes(req.path)) res.type('text/xml').send(twiml.body);
    else res.json({ error: message });
  };
}

function httpStatusOf(error: unknown): number {
  const status = (error as { status?: unknown; statusCode?: unknown } | undefined)?.status ?? (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

function clientMessage(status: number, type: string | undefined, req: Request): string {
  if (status >= 500) return 'Internal error.';
  if (type === 'entity.parse.failed') return req.is('application/json') ? 'The body is not valid JSON.' : 'The body could not be parsed.';
  return (type === undefined ? undefined : CLIENT_MESSAGES[type]) ?? 'Bad request.';
}

/** The error as a log line may carry it: name, message and stack, none of the fields a parser attached (`body`). */
function withoutBody(error: unknown): { name?: string; message: string; stack?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  return { name: error.name, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
}
