import { createServer as createHttpServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A proxy on loopback in front of a port, standing in for the tunnel or reverse proxy behind PUBLIC_URL:
 * - `relay`: bytes both ways (a tunnel that passes everything, WebSocket upgrades included);
 * - `noUpgrades`: an HTTP proxy that forwards each request as plain HTTP/1.1 without the hop-by-hop `Upgrade` and
 *   `Connection` headers, as nginx does unless told to pass them: the upgrade arrives as a plain GET and is answered
 *   as one (never 101).
 */
export interface LoopbackProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

export async function startLoopbackProxy(targetPort: number, mode: 'relay' | 'noUpgrades'): Promise<LoopbackProxy> {
  const sockets = new Set<Socket>();
  const server: Server | ReturnType<typeof createTcpServer> = mode === 'relay' ? relay(targetPort, sockets) : httpOnly(targetPort);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function relay(targetPort: number, sockets: Set<Socket>) {
  return createTcpServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
}

function httpOnly(targetPort: number): Server {
  const server = createHttpServer((req, res) => forward(targetPort, req.method ?? 'GET', req.url ?? '/', req.headers, (status, headers, body) => {
    res.writeHead(status, headers);
    res.end(body);
  }));
  server.on('upgrade', (req, socket: Socket) => {
    forward(targetPort, req.method ?? 'GET', req.url ?? '/', req.headers, (status, _headers, body) => {
      socket.end(`HTTP/1.1 ${status} Proxied\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString('latin1')}`);
    });
  });
  return server;
}

const HOP_BY_HOP = new Set(['connection', 'upgrade', 'keep-alive', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions']);

function forward(port: number, method: string, path: string, headers: IncomingHttpHeaders, reply: (status: number, headers: IncomingHttpHeaders, body: Buffer) => void): void {
  const plain = Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
  const upstream = request({ host: '127.0.0.1', port, method, path, headers: plain }, (response) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => reply(response.statusCode ?? 502, response.headers, Buffer.concat(chunks)));
  });
  upstream.on('error', () => reply(502, {}, Buffer.from('Bad Gateway')));
  upstream.end();
}
