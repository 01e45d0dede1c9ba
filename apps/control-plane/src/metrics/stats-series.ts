/**
 * The bucketed capacity series behind `GET /v1/capsules/stats` (reference §6a): samples of the lookback window,
 * grouped by flooring the epoch to the range's bucket width, MAX per bucket (not AVG, so a short burst survives and
 * the three series stay consistent), empty buckets absent.
 */
import { type Kysely, sql } from "kysely";
import type { MetricsTables } from "./tables.ts";

/** Ranges the stats route accepts. */
export const STATS_RANGES = ["5m", "1h", "6h", "24h", "30d"] as const;
export type StatsRange = (typeof STATS_RANGES)[number];

/** Bucket width and lookback of each range, in seconds. Each lookback equals its range. */
export const STATS_RANGE_CONFIG: Readonly<Record<StatsRange, { bucketSec: number; lookbackSec: number }>> = {
  "5m": { bucketSec: 3, lookbackSec: 5 * 60 },
  "1h": { bucketSec: 30, lookbackSec: 3600 },
  "6h": { bucketSec: 180, lookbackSec: 6 * 3600 },
  "24h": { bucketSec: 720, lookbackSec: 24 * 3600 },
  "30d": { bucketSec: 21_600, lookbackSec: 30 * 86_400 },
};

/** One bucket of the series. */
export interface StatsBucket {
  bucket: Date;
  running_count: number;
  vcpus_reserved: number;
  memory_mb_reserved: number;
}

/** The series in the route's column-wise shape; labels are RFC 3339 UTC without fractional seconds. */
export interface StatsSeries {
  labels: string[];
  running: number[];
  vcpus: number[];
  memory_mb: number[];
}

/** Buckets of one team's samples within `range` before `now`, oldest first. */
export async function getStatsBuckets(
  db: Kysely<MetricsTables>,
  teamId: string,
  range: StatsRange,
  now: Date,
): Promise<StatsBucket[]> {
  const { bucketSec, lookbackSec } = STATS_RANGE_CONFIG[range];
  const since = new Date(now.getTime() - lookbackSec * 1000);
  const { rows } = await sql<{ epoch: string | number } & Omit<StatsBucket, "bucket">>`
    SELECT (floor(extract(epoch FROM sampled_at) / ${bucketSec}::integer) * ${bucketSec}::integer)::bigint AS epoch,
           MAX(running_count)::integer      AS running_count,
           MAX(vcpus_reserved)::integer     AS vcpus_reserved,
           MAX(memory_mb_reserved)::integer AS memory_mb_reserved
    FROM sandbox_metrics_snapshots
    WHERE team_id = ${teamId} AND sampled_at >= ${since} AND sampled_at <= ${now}
    GROUP BY 1
    ORDER BY 1`.execute(db);
  return rows.map((r) => ({
    bucket: new Date(Number(r.epoch) * 1000),
    running_count: Number(r.running_count),
    vcpus_reserved: Number(r.vcpus_reserved),
    memory_mb_reserved: Number(r.memory_mb_reserved),
  }));
}

/** Turns buckets into the route's parallel arrays. */
export function toStatsSeries(buckets: readonly StatsBucket[]): StatsSeries {
  return {
    labels: buckets.map((b) => rfc3339(b.bucket)),
    running: buckets.map((b) => b.running_count),
    vcpus: buckets.map((b) => b.vcpus_reserved),
    memory_mb: buckets.map((b) => b.memory_mb_reserved),
  };
}

/** RFC 3339 in UTC with second precision, like Go's time.RFC3339 (`2026-03-25T10:00:00Z`). */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
