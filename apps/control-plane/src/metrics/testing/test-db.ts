/**
 * Test databases for the metrics SQL: a fresh database on the real PostgreSQL 15 (`WRENN_TEST_DATABASE_URL`, else
 * `scripts/pg-test.sh start`) and an in-process PGlite, both with the control plane's schema (metrics
 * tables included). Every metrics test runs on both. Each test file gets its own database so parallel engineers and files
 * never share rows; `close()` drops it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { migrateToLatest } from "../../db/migrate.ts";
import { PGliteDialect } from "../../db/pglite-dialect.ts";
import { CAPSULE_TABLE, type MetricsTables } from "../tables.ts";

/** One migrated database; `connect()` opens another independent connection pool to it (a second "replica"). */
export interface TestDb {
  name: "postgres" | "pglite";
  db: Kysely<MetricsTables>;
  connect(): Kysely<MetricsTables>;
  close(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL("../../../../../", import.meta.url));

function testPgUrl(): string {
  const fromEnv = process.env.WRENN_TEST_DATABASE_URL;
  if (fromEnv) return fromEnv;
  return execFileSync("bash", [`${repoRoot}scripts/pg-test.sh`, "start"], {
    encoding: "utf8",
    timeout: 120_000,
  }).trim();
}

/** The control plane's migrations (the metrics one is listed there as `0002_metrics`). */
async function migrate(db: Kysely<MetricsTables>): Promise<void> {
  await migrateToLatest(db as unknown as Kysely<unknown>);
}

/** A fresh database on the real PostgreSQL 15. */
export async function openPostgres(): Promise<TestDb> {
  const base = new URL(testPgUrl());
  const dbName = `wrenn_metrics_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${dbName}`;
  const pools: pg.Pool[] = [];
  const connect = () => {
    const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
    // As in db/database.ts: an idle client's error (e.g. the server ending it when the test database is dropped
    // WITH (FORCE)) is emitted on the pool and would otherwise surface as an unhandled error after the test.
    pool.on("error", () => {});
    pools.push(pool);
    return new Kysely<MetricsTables>({ dialect: new PostgresDialect({ pool }) });
  };
  const db = connect();
  await migrate(db);
  const dbs = [db];
  return {
    name: "postgres",
    db,
    connect: () => {
      const k = connect();
      dbs.push(k);
      return k;
    },
    close: async () => {
      for (const k of dbs) await k.destroy();
      const a = new pg.Client({ connectionString: base.toString() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A fresh in-memory PGlite. `connect()` returns the same instance: PGlite has one session. */
export async function openPglite(): Promise<TestDb> {
  const pglite = await PGlite.create();
  const db = new Kysely<MetricsTables>({ dialect: new PGliteDialect(pglite) });
  await migrate(db);
  return { name: "pglite", db, connect: () => db, close: () => db.destroy() };
}

/** Both back ends, for `for (const open of BACKENDS)` loops in tests. */
export const BACKENDS = [openPostgres, openPglite] as const;

let seq = 0;

/**
 * Inserts a capsule row (the metrics only read team, host, status, vcpus, memory), creating its team and host rows
 * when missing. Returns its id.
 */
export async function insertCapsule(
  db: Kysely<MetricsTables>,
  c: { teamId: string; status: string; vcpus?: number; memoryMb?: number; hostId?: string; id?: string },
): Promise<string> {
  const id = c.id ?? `cl-test${String(++seq).padStart(6, "0")}${randomBytes(4).toString("hex")}`;
  await sql`INSERT INTO teams (id, name, slug) VALUES (${c.teamId}, ${c.teamId}, ${c.teamId})
            ON CONFLICT DO NOTHING`.execute(db);
  if (c.hostId) {
    await sql`INSERT INTO hosts (id, type, status) VALUES (${c.hostId}, 'regular', 'online')
              ON CONFLICT DO NOTHING`.execute(db);
  }
  await sql`
    INSERT INTO ${sql.table(CAPSULE_TABLE)} (id, team_id, host_id, template, status, vcpus, memory_mb)
    VALUES (${id}, ${c.teamId}, ${c.hostId ?? null}, 'minimal', ${c.status}, ${c.vcpus ?? 1}, ${c.memoryMb ?? 512})`.execute(
    db,
  );
  return id;
}

/** Sets a capsule's status. */
export async function setCapsuleStatus(db: Kysely<MetricsTables>, id: string, status: string): Promise<void> {
  await sql`UPDATE ${sql.table(CAPSULE_TABLE)} SET status = ${status} WHERE id = ${id}`.execute(db);
}

/** Inserts team samples directly (for series, peaks and usage tests). */
export async function insertSamples(
  db: Kysely<MetricsTables>,
  rows: ReadonlyArray<{ teamId: string; at: Date; running: number; vcpus: number; memoryMb: number }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto("sandbox_metrics_snapshots")
    .values(
      rows.map((r) => ({
        team_id: r.teamId,
        sampled_at: r.at,
        running_count: r.running,
        vcpus_reserved: r.vcpus,
        memory_mb_reserved: r.memoryMb,
      })),
    )
    .execute();
}
