import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type DatabaseHandle, openDatabase } from "../db/database.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { randomHex } from "../ids.ts";

const migrationsDir = join(import.meta.dirname, "..", "db", "migrations");

function migrationsHash(): string {
  const h = createHash("sha256");
  for (const f of readdirSync(migrationsDir).sort()) h.update(f).update(readFileSync(join(migrationsDir, f)));
  return h.digest("hex").slice(0, 16);
}

/**
 * A migrated PGlite for one test file. Creating PGlite from scratch costs ~5 s, so the first
 * caller dumps a migrated seed to the temp dir (keyed by the migrations' hash) and every
 * later file clones it (~1 s).
 */
async function clonePglite(): Promise<PGlite> {
  const seedFile = join(tmpdir(), `wrenn-cp-seed-${migrationsHash()}.tar.gz`);
  if (existsSync(seedFile)) {
    const blob = new Blob([readFileSync(seedFile)]);
    return PGlite.create({ loadDataDir: blob });
  }
  const lite = await PGlite.create();
  const h = await openDatabase({ pglite: lite });
  await migrateToLatest(h.db as never);
  const dump = await lite.dumpDataDir("gzip");
  const tmp = `${seedFile}.${process.pid}.${randomHex(4)}`;
  writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
  renameSync(tmp, seedFile); // atomic: parallel test files never read a half-written seed
  return lite;
}

/**
 * A fresh, migrated database for one test file: a new PostgreSQL database when
 * `WRENN_TEST_DATABASE_URL` is set (dropped on close), else a cloned embedded PGlite.
 */
export async function openTestDatabase(): Promise<DatabaseHandle & { url?: string }> {
  const adminUrl = process.env.WRENN_TEST_DATABASE_URL;
  if (!adminUrl) {
    const h = await openDatabase({ pglite: await clonePglite() });
    await migrateToLatest(h.db as never);
    return h;
  }
  const name = `wrenn_t_${randomHex(6)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const h = await openDatabase({ url: u.toString() });
  await migrateToLatest(h.db as never);
  return {
    ...h,
    url: u.toString(),
    close: async () => {
      await h.close();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`drop database if exists ${name} with (force)`);
      } finally {
        // Also when the drop fails: an open client would keep the test file's process alive until its timeout.
        await a.end();
      }
    },
  };
}
