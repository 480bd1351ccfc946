/**
 * The two databases the restaurant's store runs on, for tests that run on both: SQLite in a fresh temp
 * directory, and a real Postgres (test/support/postgres-server.ts) with a fresh database per store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgresServer, type PostgresServer } from '../../support/postgres-server.js';
import type { BookingStoreOptions } from '../../../examples/restaurant/booking-store.js';

/** Where a fresh database is: `dataDir` (SQLite) or `databaseUrl` (Postgres). */
export type Location = Pick<BookingStoreOptions, 'dataDir' | 'databaseUrl'>;

export interface Backend {
  name: 'SQLite' | 'Postgres';
  /** A new, empty database. */
  fresh(): Promise<Location>;
  /** Removes what `fresh` made (the Postgres server stays up until `stop`). */
  cleanUp(): void;
  stop(): Promise<void>;
}

export function sqliteBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: 'SQLite',
    fresh: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bookings-'));
      dirs.push(dir);
      return { dataDir: dir };
    },
    cleanUp: () => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
    stop: async () => undefined,
  };
}

/** Starts its server on the first `fresh()`, so a run that skips these tests starts none. */
export function postgresBackend(): Backend & { server(): PostgresServer | undefined } {
  let server: Promise<PostgresServer> | undefined;
  let started: PostgresServer | undefined;
  let count = 0;
  return {
    name: 'Postgres',
    server: () => started,
    fresh: async () => {
      server ??= startPostgresServer().then((s) => (started = s));
      return { databaseUrl: await (await server).createDatabase(`bookings_${process.pid}_${++count}`) };
    },
    cleanUp: () => undefined,
    stop: async () => {
      await (await server)?.close();
    },
  };
}
