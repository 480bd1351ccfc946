import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, requireBinary, spawnServer, stopProcess, waitUntilReady, type SpawnedServer } from './servers/process.js';

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';
/** PostgreSQL refuses to run as root: as root, the server runs as this user (created by the Debian package). */
const SERVER_USER = 'postgres';

/**
 * A real PostgreSQL (Debian package `postgresql`) on 127.0.0.1, a random port and a fresh cluster in its own temp
 * directory (initdb, trust auth, fsync off). As root it runs as the `postgres` user through runuser.
 *
 *   const postgres = await startPostgresServer();   // in beforeAll (initdb takes a second or two)
 *   new pg.Pool({ connectionString: postgres.url });
 *   await postgres.createDatabase('bookings_test');  // a database per test file or case, if wanted
 *   await postgres.close();                          // in afterAll: stops it and removes the cluster
 */
export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  close(): Promise<void>;
}

/** The bin directory of the newest installed major version, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string {
  const versions = existsSync(POSTGRES_ROOT) ? readdirSync(POSTGRES_ROOT).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
  const newest = versions[0];
  if (newest === undefined) requireBinary(join(POSTGRES_ROOT, '<version>', 'bin', 'postgres'), 'postgresql');
  return join(POSTGRES_ROOT, newest!, 'bin');
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const postgres = requireBinary(join(bin, 'postgres'), 'postgresql');
  const initdb = requireBinary(join(bin, 'initdb'), 'postgresql');
  const asRoot = userInfo().uid === 0;
  const asServerUser = (command: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', SERVER_USER, '--', command, ...args]] : [command, args]);

  const dir = mkdtempSync(join(tmpdir(), 'postgres-test-'));
  const dataDir = join(dir, 'data');
  let running: SpawnedServer | undefined;
  try {
    if (asRoot) {
      const { stdout } = await run('id', ['-u', SERVER_USER]).catch(() => {
        throw new Error(`running as root, but there is no "${SERVER_USER}" user to run PostgreSQL as (the Debian package creates it)`);
      });
      const { stdout: gid } = await run('id', ['-g', SERVER_USER]);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await run(...asServerUser(initdb, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']));

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const server = spawnServer(...asServerUser(postgres, [
        '-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100',
      ]));
      try {
        await waitUntilReady('postgres', server, () => canQuery(`postgres://postgres@127.0.0.1:${port}/postgres`));
        running = server;
        break;
      } catch (error) {
        await stopProcess(server);
        if (attempt >= 3) throw error;
      }
    }

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      url,
      port,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}": use lower-case letters, digits and _`);
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async close() {
        // SIGTERM is a "smart" shutdown that waits for clients; SIGINT ("fast") disconnects them.
        if (running !== undefined) {
          running.child.kill('SIGINT');
          await stopProcess(running, 10_000);
        }
        running = undefined;
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (running !== undefined) await stopProcess(running);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
