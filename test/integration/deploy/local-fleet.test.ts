import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/servers/process.js';

describe('scripts/local-fleet.sh', () => {
  it('runs Redis, Postgres, two instances and HAProxy from Debian packages, and stops them all', async () => {
    const [proxy, agent1, agent2, redisPort, postgresPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'local-fleet-test-'));
    const fleet = spawn('scripts/local-fleet.sh', [], {
      env: {
        ...process.env,
        FLEET_PORT: String(proxy),
        FLEET_AGENT_PORTS: `${agent1} ${agent2}`,
        FLEET_REDIS_PORT: String(redisPort),
        FLEET_POSTGRES_PORT: String(postgresPort),
        FLEET_DIR: join(dir, 'fleet'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    fleet.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    fleet.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => fleet.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 45_000;
      while (!output.includes('local-fleet: ready on')) {
        if (fleet.exitCode !== null || Date.now() > deadline) throw new Error(`the fleet did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toContain(`ready on http://127.0.0.1:${proxy}`);
      for (const port of [proxy, agent1, agent2]) expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

      // The URL to open, with the key every instance holds: through HAProxy, any instance accepts it.
      await expect.poll(() => /talk to the agent in your browser: (http:\/\/localhost:\d+\/phone#key=([\w-]+))/.exec(output)?.[1], { timeout: 5_000 }).toBeDefined();
      const [, url, key] = /talk to the agent in your browser: (http:\/\/localhost:\d+\/phone#key=([\w-]+))/.exec(output)!;
      expect(url).toBe(`http://localhost:${proxy}/phone#key=${key}`);
      const statuses = new Set<number>();
      for (let i = 0; i < 10; i++) statuses.add((await fetch(`http://127.0.0.1:${proxy}/phone/key`, { headers: { Authorization: `Bearer ${key}` } })).status);
      expect([...statuses]).toEqual([204]);
      for (const port of [agent1, agent2]) expect((await fetch(`http://127.0.0.1:${port}/phone/key`, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(204);
      // Printed to the terminal only: no instance's output (its log file) holds it.
      for (const file of readdirSync(join(dir, 'fleet')).filter((name) => name.endsWith('.log'))) {
        expect(readFileSync(join(dir, 'fleet', file), 'utf8'), file).not.toContain(key);
      }
      const redis = createClient({ url: `redis://127.0.0.1:${redisPort}` });
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
      redis.destroy();
      const postgres = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${postgresPort}/postgres` });
      await postgres.connect();
      expect((await postgres.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await postgres.end();
    } finally {
      fleet.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
    for (const port of [proxy, agent1, agent2]) await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toThrow();
    expect(existsSync(join(dir, 'fleet'))).toBe(false);
  }, 90_000);
});
