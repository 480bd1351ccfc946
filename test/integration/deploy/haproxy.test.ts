import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { instanceAddressVariable, renderHaproxyConfig } from '../../../scripts/lib/haproxy-config.js';
import { startHaproxy, type HaproxyServer } from '../../support/haproxy-server.js';
import { sleep } from '../../support/log-capture.js';

const CONFIG_PATH = 'deploy/haproxy/haproxy.cfg';

/** A stand-in instance: answers every request and every WebSocket with its id; its /readyz status can be set. */
class StandIn {
  readyStatus = 200;
  private server: Server | undefined;
  private sockets: WebSocketServer | undefined;
  port = 0;

  constructor(readonly id: string) {}

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const status = req.url === '/readyz' ? this.readyStatus : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ instance: this.id, path: req.url }));
    });
    const sockets = new WebSocketServer({ server });
    sockets.on('connection', (socket, req) => socket.send(JSON.stringify({ instance: this.id, path: req.url })));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.sockets = sockets;
  }

  async stop(): Promise<void> {
    for (const client of this.sockets?.clients ?? []) client.terminate();
    this.sockets?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
    this.server = undefined;
  }
}

const a = new StandIn('agent-1');
const b = new StandIn('agent-2');
let haproxy: HaproxyServer;

async function instanceFor(path: string): Promise<string> {
  const response = await fetch(`${haproxy.url}${path}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { instance: string }).instance;
}

/** Opens a WebSocket through the proxy and returns the instance that greeted it (and the path it saw). */
function streamTo(path: string): Promise<{ instance: string; path: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${haproxy.port}${path}`);
    socket.once('message', (data) => {
      socket.close();
      resolve(JSON.parse(data.toString()) as { instance: string; path: string });
    });
    socket.once('error', reject);
  });
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}

async function bothServing(): Promise<boolean> {
  const seen = new Set([await instanceFor('/voice'), await instanceFor('/voice'), await instanceFor('/voice')]);
  return seen.size === 2;
}

beforeAll(async () => {
  await a.start();
  await b.start();
  haproxy = await startHaproxy({
    config: readFileSync(CONFIG_PATH, 'utf8'),
    env: { [instanceAddressVariable('agent-1')]: `127.0.0.1:${a.port}`, [instanceAddressVariable('agent-2')]: `127.0.0.1:${b.port}` },
  });
  await eventually(bothServing);
});

afterAll(async () => {
  await haproxy?.close();
  await a.stop();
  await b.stop();
});

describe('deploy/haproxy/haproxy.cfg with a real HAProxy', () => {
  it('is what the generator renders for agent-1 and agent-2', () => {
    expect(readFileSync(CONFIG_PATH, 'utf8')).toBe(renderHaproxyConfig(['agent-1', 'agent-2']));
  });

  it('sends /media/<instance id> streams to that instance, every time', async () => {
    for (let i = 0; i < 4; i++) {
      expect(await streamTo('/media/agent-1')).toEqual({ instance: 'agent-1', path: '/media/agent-1' });
      expect(await streamTo('/media/agent-2')).toEqual({ instance: 'agent-2', path: '/media/agent-2' });
    }
  });

  it('balances everything else round-robin, and keeps /metrics off the balancer', async () => {
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await instanceFor('/voice'));
    expect(seen.filter((id) => id === 'agent-1')).toHaveLength(3);
    expect(seen.filter((id) => id === 'agent-2')).toHaveLength(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
    // An unknown instance id in the path is just another request.
    const unknown = new Set([(await streamTo('/media/agent-9')).instance, (await streamTo('/media/agent-9')).instance]);
    expect(unknown.size).toBe(2);
    expect((await fetch(`${haproxy.url}/metrics`)).status).toBe(404);
  });

  it('takes an instance whose /readyz answers 503 out (its streams go to another instance) and back when ready', async () => {
    b.readyStatus = 503;
    try {
      await eventually(async () => (await streamTo('/media/agent-2')).instance === 'agent-1');
      for (let i = 0; i < 4; i++) expect(await instanceFor('/voice')).toBe('agent-1');
    } finally {
      b.readyStatus = 200;
    }
    await eventually(async () => (await streamTo('/media/agent-2')).instance === 'agent-2');
    await eventually(bothServing);
  });

  it('falls back to a healthy instance when the named one is gone, at once and after its health checks fail', async () => {
    await a.stop();
    try {
      // Before any health check notices: the connection to agent-1 is refused and redispatched.
      const immediate = await streamTo('/media/agent-1');
      expect(immediate).toEqual({ instance: 'agent-2', path: '/media/agent-1' });
      await sleep(2_500); // two failed checks: agent-1 is down
      for (let i = 0; i < 3; i++) {
        expect((await streamTo('/media/agent-1')).instance).toBe('agent-2');
        expect(await instanceFor('/voice')).toBe('agent-2');
      }
    } finally {
      await a.start(a.port);
    }
    await eventually(async () => (await streamTo('/media/agent-1')).instance === 'agent-1');
  });
});
