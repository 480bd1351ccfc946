import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireBinary, spawnServer, stopProcess, waitUntilReady, type SpawnedServer } from './servers/process.js';

const HAPROXY = '/usr/sbin/haproxy';

/**
 * A real HAProxy (Debian package `haproxy`) running a given configuration in the foreground. The configuration can
 * read environment variables ("${NAME}"); `HAPROXY_BIND` is set to 127.0.0.1:<a random free port> for its frontend.
 *
 *   const haproxy = await startHaproxy({ config: readFileSync('deploy/haproxy/haproxy.cfg', 'utf8'),
 *     env: { AGENT_1_ADDR: '127.0.0.1:4001', AGENT_2_ADDR: '127.0.0.1:4002' } });
 *   fetch(`${haproxy.url}/readyz`);
 *   await haproxy.close();
 */
export interface HaproxyServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHaproxy({ config, env = {} }: { config: string; env?: Record<string, string> }): Promise<HaproxyServer> {
  const binary = requireBinary(HAPROXY, 'haproxy');
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-test-'));
  const configPath = join(dir, 'haproxy.cfg');
  writeFileSync(configPath, config);
  let running: SpawnedServer | undefined;
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const processEnv = { ...process.env, ...env, HAPROXY_BIND: `127.0.0.1:${port}` };
      // -c first: a configuration error is reported as such, not as "exited before it was ready".
      const check = spawnServer(binary, ['-c', '-f', configPath], { env: processEnv });
      if ((await check.exited) !== 0) throw new Error(`haproxy rejected the configuration:\n${check.output()}`);
      // -db: foreground, no daemon; -W: master-worker, so SIGTERM/SIGUSR1 behave like in production.
      const server = spawnServer(binary, ['-db', '-W', '-f', configPath], { env: processEnv });
      try {
        await waitUntilReady('haproxy', server, () => accepts(port));
        running = server;
        break;
      } catch (error) {
        await stopProcess(server);
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      if (running !== undefined) await stopProcess(running);
      running = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
