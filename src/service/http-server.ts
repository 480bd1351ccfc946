import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpServerOptions, limitConnections, type ConnectionLimits } from '../http/connection-limits.js';
import type { Logger } from '../observability/logger.js';
import type { MediaStreamServer } from '../telephony/media-stream-server.js';
import { MEDIA_STREAM_PATH_PATTERN } from '../telephony/routes.js';

export interface ListeningServer {
  server: Server;
  /** The port listened on (the real one when 0 was asked for). */
  port: number;
  /** Where a process on this machine reaches the service, e.g. http://127.0.0.1:8080. */
  localUrl: string;
  /** What the server is bound to: `0.0.0.0:8080` (every interface), `[::]:8080`, `127.0.0.1:8080`. */
  boundAddress: string;
}

/**
 * One HTTP server for the routes and the media WebSocket, held to the connection limits: upgrades to a media
 * stream path go to the media server, any other upgrade is refused. Resolves once listening; rejects when it cannot
 * listen (port in use).
 */
export async function listen(
  routes: RequestListener,
  media: MediaStreamServer,
  { host, port, connections, log }: { host: string; port: number; connections: ConnectionLimits; log: Logger },
): Promise<ListeningServer> {
  const server = createServer(httpServerOptions(connections), routes);
  limitConnections(server, connections, log);
  server.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (MEDIA_STREAM_PATH_PATTERN.test(path)) media.handleUpgrade(request, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const localUrl = `http://${bound === '0.0.0.0' || bound === '[::]' ? '127.0.0.1' : bound}:${address.port}`;
  return { server, port: address.port, localUrl, boundAddress: `${bound}:${address.port}` };
}

/** Closes every connection, the media streams' sockets included, and waits for the server to close. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Where a person on this machine opens a page. Microphones and audio worklets need a secure context, which
 * http://localhost is; a wildcard or loopback bind is reached there, another address as itself.
 */
export function pageOrigin(host: string, port: number): string {
  const local = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(host);
  return `http://${local ? 'localhost' : host.includes(':') ? `[${host}]` : host}:${port}`;
}
