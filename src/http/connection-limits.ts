import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import { RefusalLog } from '../observability/refusal-log.js';

/** What one server accepts from its clients (docs/deployment.md, "Connection limits"). */
export interface ConnectionLimits {
  /** A request's headers must have arrived within this (HTTP_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** The whole request, body included (HTTP_REQUEST_TIMEOUT_MS); at least `headersTimeoutMs`. */
  requestTimeoutMs: number;
  /** Open connections at once, WebSockets (media streams) included (MAX_CONNECTIONS). */
  maxConnections: number;
  /** Open connections from one peer address (MAX_CONNECTIONS_PER_SOURCE); behind a proxy, the proxy's. */
  maxConnectionsPerSource: number;
}

/** Node checks its header and request timeouts on this interval at most (its own default is 30 s). */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** `http.createServer` options: the timeouts, checked often enough that a slow client is cut near its limit. */
export function httpServerOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, Math.max(10, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/**
 * Holds `server` to `limits`: past `maxConnections` Node itself closes new connections at once (`maxConnections`);
 * past `maxConnectionsPerSource` from one address, so are they. A WebSocket is its upgraded connection, so media
 * streams count against the same budget. A request whose headers or body come too slowly gets 408 and is closed;
 * a request that is not HTTP gets 400. Every refusal is logged once per source and window (RefusalLog).
 */
export function limitConnections(server: Server, limits: ConnectionLimits, log: Logger): void {
  const refusals = RefusalLog.for(log);
  server.maxConnections = limits.maxConnections;
  server.on('drop', (peer?: { remoteAddress?: string }) => {
    refusals.warn(peer?.remoteAddress, { maxConnections: limits.maxConnections }, 'connection refused: MAX_CONNECTIONS are open');
  });

  const openBySource = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const source = socket.remoteAddress ?? 'unknown';
    const open = (openBySource.get(source) ?? 0) + 1;
    if (open > limits.maxConnectionsPerSource) {
      refusals.warn(source, { maxConnectionsPerSource: limits.maxConnectionsPerSource }, 'connection refused: MAX_CONNECTIONS_PER_SOURCE are open from this address');
      socket.destroy();
      return;
    }
    openBySource.set(source, open);
    socket.once('close', () => {
      const left = (openBySource.get(source) ?? 1) - 1;
      if (left > 0) openBySource.set(source, left);
      else openBySource.delete(source);
    });
  });

  // A client error (a timeout, a bad request line, a reset) must never reach the process as an exception.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = clientErrorAnswer(error.code);
    if (answer === undefined) {
      socket.destroy(); // a reset or the like: nobody to answer
      return;
    }
    refusals.warn((socket as Socket).remoteAddress, { problem: error.code, headersTimeoutMs: limits.headersTimeoutMs, requestTimeoutMs: limits.requestTimeoutMs }, `connection closed: ${answer}`);
    if (!socket.writable) socket.destroy();
    else socket.end(`HTTP/1.1 ${answer}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });
}

/** The status line for a client's error: its request too slow (408), too large (431) or not HTTP (400). */
function clientErrorAnswer(code: string | undefined): string | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code?.startsWith('HPE_') === true) return '400 Bad Request';
  return undefined;
}
