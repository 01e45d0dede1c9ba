/**
 * The metrics tables (reference §2.1): team samples every 10 s, persisted per-capsule points, daily usage, plus
 * `metrics_job_runs`, which lets several control planes on one database run each sampler tick exactly once.
 * Add it to the control plane's migration list (see `METRICS_MIGRATION_NAME`).
 */
import { type Kysely, type Migration, sql } from "kysely";

/**
 * Suggested name in the control plane's migration list. Kysely requires applied migrations to stay a prefix of the
 * sorted list, so it must take the next free number in sequence, never one that a later migration sorts before.
 */
export const METRICS_MIGRATION_NAME = "0002_metrics";

/** Creates and drops the metrics tables. Uses text ids so it fits prefixed (`team-…`, `cl-…`) and UUID ids alike. */
export const metricsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      CREATE TABLE sandbox_metrics_snapshots (
        id                 BIGSERIAL PRIMARY KEY,
        team_id            TEXT        NOT NULL,
        sampled_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
        running_count      INTEGER     NOT NULL DEFAULT 0,
        vcpus_reserved     INTEGER     NOT NULL DEFAULT 0,
        memory_mb_reserved INTEGER     NOT NULL DEFAULT 0
      )`.execute(db);
    await sql`CREATE INDEX idx_metrics_snapshots_team_time ON sandbox_metrics_snapshots (team_id, sampled_at DESC)`.execute(
      db,
    );
    // Pruning walks by time alone; without this index each batch would scan the table.
    await sql`CREATE INDEX idx_metrics_snapshots_time ON sandbox_metrics_snapshots (sampled_at)`.execute(db);
    await sql`
      CREATE TABLE sandbox_metric_points (
        sandbox_id TEXT             NOT NULL,
        tier       TEXT             NOT NULL CHECK (tier IN ('10m', '2h', '24h')),
        ts         BIGINT           NOT NULL,
        cpu_pct    DOUBLE PRECISION NOT NULL DEFAULT 0,
        mem_bytes  BIGINT           NOT NULL DEFAULT 0,
        disk_bytes BIGINT           NOT NULL DEFAULT 0,
        PRIMARY KEY (sandbox_id, tier, ts)
      )`.execute(db);
    await sql`
      CREATE TABLE daily_usage (
        team_id        TEXT          NOT NULL,
        day            DATE          NOT NULL,
        cpu_minutes    NUMERIC(18,4) NOT NULL DEFAULT 0,
        ram_mb_minutes NUMERIC(18,4) NOT NULL DEFAULT 0,
        PRIMARY KEY (team_id, day)
      )`.execute(db);
    await sql`
      CREATE TABLE metrics_job_runs (
        job       TEXT        PRIMARY KEY,
        last_slot BIGINT      NOT NULL,
        ran_at    TIMESTAMPTZ NOT NULL DEFAULT now()
      )`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await sql`DROP TABLE IF EXISTS metrics_job_runs`.execute(db);
    await sql`DROP TABLE IF EXISTS daily_usage`.execute(db);
    await sql`DROP TABLE IF EXISTS sandbox_metric_points`.execute(db);
    await sql`DROP TABLE IF EXISTS sandbox_metrics_snapshots`.execute(db);
  },
};
