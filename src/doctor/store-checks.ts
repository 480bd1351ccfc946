import { createClient } from '@redis/client';
import pg from 'pg';
import { fail, pass, within, type CheckResult } from './check.js';

const CONNECT_TIMEOUT_MS = 3_000;

/** REDIS_URL: the fleet's shared call state. Without it every call's state is this process's (one instance only). */
export async function checkRedis(url: string): Promise<CheckResult> {
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false } });
  client.on('error', () => undefined); // the failure is reported below, once
  try {
    await within(client.connect(), CONNECT_TIMEOUT_MS + 500, 'Redis');
    const answer = await within(client.ping(), CONNECT_TIMEOUT_MS, 'Redis');
    return pass('Redis', `${hostOf(url, 'Redis')} answered ${answer}`);
  } catch (error) {
    return fail('Redis', `${hostOf(url, 'Redis')} cannot be used (${(error as Error).message}): new calls would get the busy answer; check REDIS_URL and that Redis runs`);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** DATABASE_URL: the call history's store (and the example agent's bookings) when it is Postgres. */
export async function checkPostgres(url: string): Promise<CheckResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await within(client.query('SELECT 1'), CONNECT_TIMEOUT_MS, 'Postgres');
    return pass('Postgres', `${hostOf(url, 'Postgres')} answered`);
  } catch (error) {
    return fail('Postgres', `${hostOf(url, 'Postgres')} cannot be used (${(error as Error).message}): the call history cannot be written and tools that need it answer "unavailable"; check DATABASE_URL and that Postgres runs`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `Redis at host:port`, never the whole URL: it may carry a password. */
function hostOf(url: string, what: string): string {
  try {
    return `${what} at ${new URL(url).host}`;
  } catch {
    return what;
  }
}
