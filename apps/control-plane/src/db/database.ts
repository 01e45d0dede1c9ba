import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { PGliteDialect } from "./pglite-dialect.ts";
import type { Database } from "./schema.ts";

// pg returns int8 (count(*), bigint) as strings; PGlite returns numbers. Make both numbers.
pg.types.setTypeParser(20, Number);

/** A holder of session-level advisory locks (one dedicated connection on PostgreSQL). */
export interface LockSession {
  /** Takes the lock if free; true when this session holds it (re-entrant for the holder). */
  tryLock(key: number): Promise<boolean>;
  unlock(key: number): Promise<void>;
  close(): Promise<void>;
}

/** An open database: the Kysely handle, which back end it is, and its advisory-lock session. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: "postgres" | "pglite";
  locks: LockSession;
  close(): Promise<void>;
}

/** Options for openDatabase. */
export interface OpenDatabaseOptions {
  /** PostgreSQL URL; without it, the embedded PGlite database under `pgliteDir` is used. */
  url?: string;
  /** Directory of the embedded database (created if missing). */
  pgliteDir?: string;
  /** An already-open PGlite (tests clone one per file). */
  pglite?: PGlite;
  /** Pool size for PostgreSQL; default 10. */
  poolSize?: number;
}

/** Opens PostgreSQL when a URL is given, else the embedded PGlite database. */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (opts.url) return openPostgres(opts.url, opts.poolSize ?? 10);
  let lite = opts.pglite;
  if (!lite) {
    if (!opts.pgliteDir) throw new Error("openDatabase: need url, pgliteDir or pglite");
    mkdirSync(opts.pgliteDir, { recursive: true });
    lite = await PGlite.create(opts.pgliteDir);
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(lite) });
  const locks: LockSession = {
    // PGlite is one in-process session, so locks taken here are naturally exclusive to this process.
    tryLock: async (key) =>
      (await sql<{ ok: boolean }>`select pg_try_advisory_lock(${key}) as ok`.execute(db)).rows[0]?.ok === true,
    unlock: async (key) => {
      await sql`select pg_advisory_unlock(${key})`.execute(db);
    },
    close: async () => {},
  };
  return { db, kind: "pglite", locks, close: () => db.destroy() };
}

function openPostgres(url: string, poolSize: number): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that dies must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let client: pg.Client | undefined;
  const session = async (): Promise<pg.Client> => {
    if (client) return client;
    const c = new pg.Client({ connectionString: url });
    c.on("error", () => {
      // Losing the connection releases every lock it held; the next tryLock reconnects.
      if (client === c) client = undefined;
    });
    await c.connect();
    client = c;
    return c;
  };
  const locks: LockSession = {
    tryLock: async (key) => {
      try {
        const c = await session();
        const r = await c.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [key]);
        return r.rows[0]?.ok === true;
      } catch {
        client = undefined;
        return false;
      }
    },
    unlock: async (key) => {
      await client?.query("select pg_advisory_unlock($1)", [key]).catch(() => {});
    },
    close: async () => {
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
  return {
    db,
    kind: "postgres",
    locks,
    close: async () => {
      await locks.close();
      await db.destroy();
    },
  };
}
