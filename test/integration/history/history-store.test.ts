import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryStore, InvalidCursorError } from '../../../src/history/history-store.js';
import { HistoryWriter } from '../../../src/history/history-writer.js';
import { sampleCallRecord } from '../../support/call-record.js';
import { capturingLogger } from '../../support/log-capture.js';
import { startPostgresServer, type PostgresServer } from '../../support/postgres-server.js';

let postgres: PostgresServer;
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  postgres = await startPostgresServer();
});

afterAll(async () => {
  await postgres?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const stores: Record<'sqlite' | 'postgres', (name: string) => Promise<HistoryStore>> = {
  sqlite: async () => new HistoryStore({ sqliteFile: join(tempDir(), 'history.sqlite') }),
  postgres: async (name) => new HistoryStore({ databaseUrl: await postgres.createDatabase(name), sqliteFile: join(tempDir(), 'unused.sqlite') }),
};

describe.each(['sqlite', 'postgres'] as const)('the call history on %s', (dialect) => {
  it('keeps records whole, lists them newest first with filters, and pages with a cursor', async () => {
    const store = await stores[dialect](`history_list`);
    try {
      const minute = (n: number): string => new Date(Date.UTC(2026, 11, 1, 10, n)).toISOString();
      const records = Array.from({ length: 7 }, (_, n) =>
        sampleCallRecord({ startedAt: minute(n), agent: n % 2 === 0 ? 'dental' : 'restaurant', endReason: n === 3 ? 'agent-hung-up' : 'caller-hung-up', direction: n === 5 ? 'outbound' : 'inbound' }),
      );
      for (const record of records) await store.insert(record);
      // A call continued on another stream ends twice: the later record replaces the first.
      await store.insert({ ...records[6]!, endReason: 'agent-hung-up' });

      expect(await store.get(records[2]!.callSid)).toEqual(records[2]);
      expect(await store.get('CA-none')).toBeUndefined();

      const first = await store.list({}, 3);
      expect(first.calls.map((c) => c.startedAt)).toEqual([minute(6), minute(5), minute(4)]);
      expect(first.calls[0]).toMatchObject({ callSid: records[6]!.callSid, endReason: 'agent-hung-up', costUsd: 0, tokens: 0, recorded: false, from: '+1********23' });
      const second = await store.list({}, 3, first.nextCursor);
      const third = await store.list({}, 3, second.nextCursor);
      expect([...second.calls, ...third.calls].map((c) => c.startedAt)).toEqual([minute(3), minute(2), minute(1), minute(0)]);
      expect(third.nextCursor).toBeUndefined();

      expect((await store.list({ agent: 'restaurant' }, 10)).calls.map((c) => c.startedAt)).toEqual([minute(5), minute(3), minute(1)]);
      expect((await store.list({ endReason: 'agent-hung-up' }, 10)).calls).toHaveLength(2);
      expect((await store.list({ direction: 'outbound' }, 10)).calls.map((c) => c.callSid)).toEqual([records[5]!.callSid]);
      expect((await store.list({ from: minute(2), to: minute(4) }, 10)).calls.map((c) => c.startedAt)).toEqual([minute(3), minute(2)]);
      await expect(store.list({}, 10, 'bm90IGEgY3Vyc29y')).rejects.toBeInstanceOf(InvalidCursorError);

      // Old calls go a batch at a time, oldest first.
      expect(await store.deleteStartedBefore(new Date(minute(3)), 2)).toEqual([records[0], records[1]].map((r) => ({ callSid: r!.callSid, recording: undefined })));
      expect((await store.deleteStartedBefore(new Date(minute(3)), 2)).map((r) => r.callSid)).toEqual([records[2]!.callSid]);
      expect((await store.list({}, 10)).calls).toHaveLength(4);
    } finally {
      await store.close();
    }
  });
});

describe('HistoryWriter', () => {
  it('deletes calls past the retention and their recordings, a batch at a time, keeping the rest', async () => {
    const dir = tempDir();
    const store = new HistoryStore({ sqliteFile: join(dir, 'history.sqlite') });
    const recordings = join(dir, 'recordings');
    mkdirSync(join(recordings, '2026-11-01'), { recursive: true });
    mkdirSync(join(recordings, '2026-12-06'), { recursive: true });
    // Five calls past the retention (three recorded), deleted two by two; one recent call kept.
    const old = Array.from({ length: 5 }, (_, n) =>
      sampleCallRecord({ startedAt: `2026-11-01T09:0${n}:00.000Z`, recording: n < 3 ? { wav: `2026-11-01/old${n}.wav`, events: `2026-11-01/old${n}.json` } : undefined }),
    );
    const recent = sampleCallRecord({ startedAt: '2026-12-06T09:00:00.000Z', recording: { wav: '2026-12-06/new.wav', events: '2026-12-06/new.json' } });
    const files = [...old, recent].flatMap((record) => (record.recording === undefined ? [] : [record.recording.wav, record.recording.events]));
    for (const file of files) writeFileSync(join(recordings, file), 'x');
    for (const record of [...old, recent]) await store.insert(record);
    const { log, lines } = capturingLogger();
    const writer = new HistoryWriter({ store, log, onLost: () => undefined, retentionDays: 30, recordingsDir: recordings, now: () => new Date('2026-12-07T12:00:00Z'), retentionBatch: 2 });
    await expect.poll(() => lines.find((line) => line.msg === 'deleted calls past HISTORY_RETENTION_DAYS')).toMatchObject({ deletedCalls: 5, deletedFiles: 6 });
    for (const record of old) expect(await store.get(record.callSid)).toBeUndefined();
    expect(await store.get(recent.callSid)).toEqual(recent);
    expect(files.map((file) => existsSync(join(recordings, file)))).toEqual([false, false, false, false, false, false, true, true]);
    await writer.close();
    await store.close();
  });

  it('loses the records a store that is down cannot take, logs that once and counts each', async () => {
    // Nothing listens on that port: every connection attempt is refused.
    const store = new HistoryStore({ databaseUrl: `postgres://postgres@127.0.0.1:${await unusedPort()}/history`, sqliteFile: join(tempDir(), 'x.sqlite') });
    const { log, lines } = capturingLogger();
    let lost = 0;
    const writer = new HistoryWriter({ store, log, onLost: () => lost++, retentionDays: undefined, recordingsDir: tempDir() });
    for (let n = 0; n < 3; n++) writer.save(sampleCallRecord());
    await writer.idle();
    expect(lost).toBe(3);
    expect(lines.filter((line) => line.level >= 50)).toHaveLength(1);
    await store.close();
  });
});

async function unusedPort(): Promise<number> {
  const { freePort } = await import('../../support/servers/process.js');
  return freePort();
}
