import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely';

/**
 * The history's SQLite, for Kysely's SqliteDialect. Node's own `node:sqlite` (built in from Node 22.13, no native
 * addon to build or download at install) is used where the runtime has it; otherwise `better-sqlite3`, when the
 * project installed it. Node 22 prints an ExperimentalWarning the first time `node:sqlite` loads: that one
 * warning is held back while it loads (Node 24 prints none), so a newcomer's console shows nothing to ignore.
 */
export async function openSqlite(file: string, busyTimeoutMs: number): Promise<KyselySqliteDatabase> {
  const builtIn = await loadNodeSqlite();
  if (builtIn !== undefined) return nodeSqlite(new builtIn.DatabaseSync(file), busyTimeoutMs);
  const better = await import('better-sqlite3').catch(() => undefined);
  if (better !== undefined) return betterSqlite(new better.default(file, { timeout: busyTimeoutMs }));
  throw new Error('the call history needs SQLite: Node 22.13 or newer has it built in (or install better-sqlite3); or set DATABASE_URL for Postgres, or HISTORY=0');
}

const SQLITE_WARNING = /SQLite is an experimental feature/;

async function loadNodeSqlite(): Promise<typeof import('node:sqlite') | undefined> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (SQLITE_WARNING.test(typeof warning === 'string' ? warning : warning.message)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import('node:sqlite');
  } catch {
    return undefined; // Node 20, or Node 22.12 without --experimental-sqlite
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Statements that return rows, for a runtime without `StatementSync.columns()` (before Node 22.16). */
const READER_SQL = /^\s*(select|with|pragma|values)\b|\breturning\b/i;

function nodeSqlite(db: import('node:sqlite').DatabaseSync, busyTimeoutMs: number): KyselySqliteDatabase {
  db.exec(`PRAGMA busy_timeout = ${Math.round(busyTimeoutMs)}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`);
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        const prepared = db.prepare(sql);
        const reader = typeof prepared.columns === 'function' ? prepared.columns().length > 0 : READER_SQL.test(sql);
        type Params = Parameters<typeof prepared.all>;
        statement = {
          reader,
          all: (parameters) => prepared.all(...(parameters as Params)),
          run: (parameters) => prepared.run(...(parameters as Params)),
          iterate: (parameters) => prepared.iterate(...(parameters as Params)) as IterableIterator<unknown>,
        };
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * better-sqlite3 12 on Node 24 aborts the process when the garbage collector frees one of its objects
 * (WiseLibs/better-sqlite3#1515): its database and statements are kept for the life of the process. They are few
 * (one history database, Kysely's parameterised statements prepared once each).
 */
const keptForProcessLifetime: object[] = [];

function betterSqlite(db: import('better-sqlite3').Database): KyselySqliteDatabase {
  keptForProcessLifetime.push(db);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      if (db.open) db.close();
    },
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql) as unknown as SqliteStatement;
        keptForProcessLifetime.push(statement);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
