/**
 * Pruning of old metrics in small batches: each batch is its own short statement (no long transaction, no
 * table-wide lock), and a run stops after `maxBatches` so a backlog is worked off over several ticks instead of
 * holding up the sampler.
 */
import { type Kysely, sql } from "kysely";
import type { MetricsTables } from "./tables.ts";

/** How long team samples and stored capsule points are kept. */
export const METRICS_RETENTION_DAYS = 60;

/** Batch limits of one prune run. */
export interface PruneOptions {
  /** Rows per DELETE. Default 1000. */
  batchSize?: number;
  /** DELETE statements per run, per table. Default 20. */
  maxBatches?: number;
}

/** Deletes samples and stored capsule points older than the retention before `now`; returns rows deleted. */
export async function pruneOldMetrics(
  db: Kysely<MetricsTables>,
  now: Date,
  { batchSize = 1000, maxBatches = 20 }: PruneOptions = {},
): Promise<{ samples: number; points: number }> {
  const cutoff = new Date(now.getTime() - METRICS_RETENTION_DAYS * 86_400_000);
  const cutoffSec = Math.floor(cutoff.getTime() / 1000);
  let samples = 0;
  for (let i = 0; i < maxBatches; i++) {
    const res = await sql`
      DELETE FROM sandbox_metrics_snapshots
      WHERE id IN (SELECT id FROM sandbox_metrics_snapshots WHERE sampled_at < ${cutoff} LIMIT ${batchSize})`.execute(
      db,
    );
    const n = Number(res.numAffectedRows ?? 0n);
    samples += n;
    if (n < batchSize) break;
  }
  let points = 0;
  for (let i = 0; i < maxBatches; i++) {
    const res = await sql`
      DELETE FROM sandbox_metric_points
      WHERE ctid IN (SELECT ctid FROM sandbox_metric_points WHERE ts < ${cutoffSec} LIMIT ${batchSize})`.execute(db);
    const n = Number(res.numAffectedRows ?? 0n);
    points += n;
    if (n < batchSize) break;
  }
  return { samples, points };
}
