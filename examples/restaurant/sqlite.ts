import Database from 'better-sqlite3';

/**
 * better-sqlite3 12 on Node 24 aborts the whole process when the garbage collector frees one of its
 * objects: Node 24's `node::ObjectWrap` destructor asserts a current Environment, which a GC pass
 * may not have ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook, from
 * Statement::~Statement; WiseLibs/better-sqlite3#1515 was closed unfixed). So no Database or
 * Statement may ever become garbage: every one is kept here for the life of the process. They are
 * few (a store per process, its statements prepared once), so nothing grows while calls come and go.
 * For the same reason `db.pragma()`, which prepares a throwaway statement, is not used: `exec` is.
 */
const keptForProcessLifetime: object[] = [];

export type SqliteDatabase = Database.Database;
export type SqliteStatement<P extends unknown[] | {} = unknown[], R = unknown> = Database.Statement<P, R>;

export function openDatabase(file: string, options: Database.Options): SqliteDatabase {
  const db = new Database(file, options);
  keptForProcessLifetime.push(db);
  return db;
}

export function prepare<P extends unknown[] | {} = unknown[], R = unknown>(db: SqliteDatabase, sql: string): SqliteStatement<P, R> {
  const statement = db.prepare<P, R>(sql);
  keptForProcessLifetime.push(statement);
  return statement;
}

/**
 * The database as Kysely's SqliteDialect sees it, with each distinct SQL text prepared once and kept (Kysely
 * would prepare a throwaway statement per query: see above). Kysely writes parameters as placeholders, so
 * the store's queries are a fixed, small set of texts.
 */
export function statementCache(db: SqliteDatabase): { close(): void; prepare(sql: string): SqliteStatement } {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      if (db.open) db.close();
    },
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = prepare(db, sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
