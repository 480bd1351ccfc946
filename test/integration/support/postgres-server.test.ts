import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgresServer } from '../../support/postgres-server.js';

describe('startPostgresServer', () => {
  it('runs a real PostgreSQL on a random port, creates databases, and removes everything on close', async () => {
    const postgres = await startPostgresServer();
    try {
      const url = await postgres.createDatabase('launcher_check');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ db: string; version: string }>('SELECT current_database() AS db, version() AS version');
        expect(rows[0]?.db).toBe('launcher_check');
        expect(rows[0]?.version).toMatch(/^PostgreSQL \d+/);
      } finally {
        await client.end();
      }
    } finally {
      await postgres.close();
    }
    const after = new pg.Client({ connectionString: postgres.url, connectionTimeoutMillis: 1_000 });
    after.on('error', () => undefined);
    await expect(after.connect()).rejects.toThrow();
  });
});
