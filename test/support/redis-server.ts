import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireBinary, spawnServer, stopProcess, waitUntilReady, type SpawnedServer } from './servers/process.js';

const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * A real redis-server (Debian package `redis-server`) on 127.0.0.1, a random port and its own temp directory,
 * with persistence off. `stop()` then `start()` brings it back on the same port: Redis outages in tests.
 *
 *   const redis = await startRedisServer();   // in beforeAll
 *   createClient({ url: redis.url });
 *   await redis.close();                       // in afterAll: stops it and removes its directory
 */
export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (the port stays reserved for `start`). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const binary = requireBinary(REDIS_SERVER, 'redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  let port = 0;
  let running: SpawnedServer | undefined;

  const launch = async (): Promise<void> => {
    const server = spawnServer(binary, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning',
    ]);
    await waitUntilReady('redis-server', server, () => ping(port));
    running = server;
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (running !== undefined) await stopProcess(running);
      running = undefined;
    },
    async start() {
      if (running === undefined) await launch();
    },
    async close() {
      if (running !== undefined) await stopProcess(running);
      running = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when a PING on a fresh connection gets +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
