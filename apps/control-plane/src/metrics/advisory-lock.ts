/**
 * Coordination of periodic jobs between control planes sharing one database.
 *
 * `runWithAdvisoryLock` runs a function in a transaction that holds a transaction-scoped advisory lock, so only one
 * replica works at a time and the lock can never leak with a pooled connection. The lock alone does not stop a
 * second replica from running the same tick right after the first one committed, so jobs also `claimSlot`: a
 * compare-and-set on `metrics_job_runs` that succeeds for exactly one caller per (job, slot).
 */
import { type Kysely, sql, type Transaction } from "kysely";
import type { MetricsTables } from "./tables.ts";

/** Advisory lock keys of the metrics jobs (arbitrary, fixed, distinct from other workers' keys). */
export const METRICS_LOCK_KEYS = {
  sampler: 7_261_001,
  usageRollup: 7_261_002,
} as const;

/** Outcome of `runWithAdvisoryLock`: `ran` is false when another holder had the lock. */
export type LockedRun<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `fn` inside a transaction holding advisory lock `key`; returns `{ran:false}` at once if someone else holds
 * it. The lock is released when the transaction ends (commit or rollback).
 */
export async function runWithAdvisoryLock<T>(
  db: Kysely<MetricsTables>,
  key: number,
  fn: (trx: Transaction<MetricsTables>) => Promise<T>,
): Promise<LockedRun<T>> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${key}::bigint) AS locked`.execute(
      trx,
    );
    if (rows[0]?.locked !== true) return { ran: false } as const;
    return { ran: true, value: await fn(trx) } as const;
  });
}

/**
 * Claims `slot` (a tick number) of `job`: true for exactly one caller per slot, false if this or a later slot was
 * already claimed. Inside a transaction the claim commits or rolls back with the job's work.
 */
export async function claimSlot(db: Kysely<MetricsTables>, job: string, slot: number): Promise<boolean> {
  // ON CONFLICT … WHERE re-checks the row after a concurrent claimer commits, so two racers cannot both win.
  const { rows } = await sql<{ job: string }>`
    INSERT INTO metrics_job_runs (job, last_slot, ran_at) VALUES (${job}, ${slot}, now())
    ON CONFLICT (job) DO UPDATE SET last_slot = EXCLUDED.last_slot, ran_at = EXCLUDED.ran_at
    WHERE metrics_job_runs.last_slot < EXCLUDED.last_slot
    RETURNING job`.execute(db);
  return rows.length === 1;
}
