/**
 * Per-capsule metric points kept in the database (reference §6c): the agent's ring buffers are flushed here when
 * a capsule pauses (all tiers) or is destroyed (24h tier only), so a paused capsule's history stays visible.
 */
import { type Kysely, sql } from "kysely";
import type { MetricsTables, MetricTier } from "./tables.ts";

/** Ranges `GET /v1/capsules/{id}/metrics` accepts. */
export const CAPSULE_METRIC_RANGES = ["5m", "10m", "1h", "2h", "6h", "12h", "24h"] as const;
export type CapsuleMetricRange = (typeof CAPSULE_METRIC_RANGES)[number];

/** Which stored tier answers a range, and how far back it reaches (seconds). Same mapping as the agent's. */
export const CAPSULE_RANGE_TIER: Readonly<Record<CapsuleMetricRange, { tier: MetricTier; cutoffSec: number }>> = {
  "5m": { tier: "10m", cutoffSec: 5 * 60 },
  "10m": { tier: "10m", cutoffSec: 10 * 60 },
  "1h": { tier: "2h", cutoffSec: 3600 },
  "2h": { tier: "2h", cutoffSec: 2 * 3600 },
  "6h": { tier: "24h", cutoffSec: 6 * 3600 },
  "12h": { tier: "24h", cutoffSec: 12 * 3600 },
  "24h": { tier: "24h", cutoffSec: 24 * 3600 },
};

/** One point as the API returns it. Integers arrive from the agent as bigint (protobuf int64) or number. */
export interface CapsuleMetricPoint {
  timestamp_unix: number;
  cpu_pct: number;
  mem_bytes: number;
  disk_bytes: number;
}

/** A point from the agent's protobuf `MetricPoint` (int64 fields are bigint in protobuf-es). */
export interface WireMetricPoint {
  timestampUnix: bigint | number;
  cpuPct: number;
  memBytes: bigint | number;
  diskBytes: bigint | number;
}

/** Converts protobuf points to the API shape. */
export function fromWire(points: readonly WireMetricPoint[]): CapsuleMetricPoint[] {
  return points.map((p) => ({
    timestamp_unix: Number(p.timestampUnix),
    cpu_pct: p.cpuPct,
    mem_bytes: Number(p.memBytes),
    disk_bytes: Number(p.diskBytes),
  }));
}

const INSERT_BATCH = 500;

/** Stores points of one tier; a point already stored (same capsule, tier, second) is kept as is. */
export async function insertCapsulePoints(
  db: Kysely<MetricsTables>,
  capsuleId: string,
  tier: MetricTier,
  points: readonly CapsuleMetricPoint[],
): Promise<void> {
  for (let i = 0; i < points.length; i += INSERT_BATCH) {
    const rows = points.slice(i, i + INSERT_BATCH).map((p) => ({
      sandbox_id: capsuleId,
      tier,
      ts: p.timestamp_unix,
      cpu_pct: p.cpu_pct,
      mem_bytes: p.mem_bytes,
      disk_bytes: p.disk_bytes,
    }));
    await db
      .insertInto("sandbox_metric_points")
      .values(rows)
      .onConflict((oc) => oc.columns(["sandbox_id", "tier", "ts"]).doNothing())
      .execute();
  }
}

/** The three tiers of an agent's `FlushCapsuleMetricsResponse`. */
export interface FlushedTiers {
  points10m: readonly WireMetricPoint[];
  points2h: readonly WireMetricPoint[];
  points24h: readonly WireMetricPoint[];
}

/**
 * Stores what `FlushCapsuleMetrics` returned. On pause pass every tier (the default); on destroy pass
 * `["24h"]`, as the reference keeps only the coarse tier of a destroyed capsule.
 */
export async function persistFlushedMetrics(
  db: Kysely<MetricsTables>,
  capsuleId: string,
  flushed: FlushedTiers,
  tiers: readonly MetricTier[] = ["10m", "2h", "24h"],
): Promise<void> {
  const byTier: Record<MetricTier, readonly WireMetricPoint[]> = {
    "10m": flushed.points10m,
    "2h": flushed.points2h,
    "24h": flushed.points24h,
  };
  for (const t of tiers) await insertCapsulePoints(db, capsuleId, t, fromWire(byTier[t]));
}

/** Stored points answering `range` for a capsule, oldest first, within the range's cutoff before `now`. */
export async function getCapsulePoints(
  db: Kysely<MetricsTables>,
  capsuleId: string,
  range: CapsuleMetricRange,
  now: Date,
): Promise<CapsuleMetricPoint[]> {
  const { tier, cutoffSec } = CAPSULE_RANGE_TIER[range];
  const cutoff = Math.floor(now.getTime() / 1000) - cutoffSec;
  const rows = await db
    .selectFrom("sandbox_metric_points")
    .select(["ts", "cpu_pct", "mem_bytes", "disk_bytes"])
    .where("sandbox_id", "=", capsuleId)
    .where("tier", "=", tier)
    .where("ts", ">=", cutoff)
    .orderBy("ts")
    .execute();
  return rows.map((r) => ({
    timestamp_unix: Number(r.ts),
    cpu_pct: Number(r.cpu_pct),
    mem_bytes: Number(r.mem_bytes),
    disk_bytes: Number(r.disk_bytes),
  }));
}

/**
 * Deletes a capsule's stored points, all tiers or only those given (destroy of a paused capsule drops the
 * finer tiers; deleting a team drops everything).
 */
export async function deleteCapsulePoints(
  db: Kysely<MetricsTables>,
  capsuleId: string,
  tiers?: readonly MetricTier[],
): Promise<void> {
  if (tiers?.length === 0) return;
  let q = db.deleteFrom("sandbox_metric_points").where("sandbox_id", "=", capsuleId);
  if (tiers) q = q.where("tier", "in", [...tiers]);
  await q.execute();
}

/** Removes everything stored for a team (team deletion). */
export async function deleteTeamMetrics(db: Kysely<MetricsTables>, teamId: string): Promise<void> {
  await sql`DELETE FROM sandbox_metrics_snapshots WHERE team_id = ${teamId}`.execute(db);
  await sql`DELETE FROM daily_usage WHERE team_id = ${teamId}`.execute(db);
}
