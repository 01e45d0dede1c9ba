/**
 * Row types of the metrics tables, and the one place that names the capsule table the metrics read.
 * The control plane's own `Database` type should extend `MetricsTables` so one Kysely instance serves both.
 */
import type { ColumnType, Generated } from "kysely";

/**
 * The control plane's capsule table (the reference calls it `sandboxes`). Every metrics query goes through this
 * name; the columns read are `id, team_id, host_id, status, vcpus, memory_mb`.
 */
export const CAPSULE_TABLE = "capsules";

/** Tiers of per-capsule points, as the agent keeps them (reference §6c). */
export type MetricTier = "10m" | "2h" | "24h";

/** One team sample every 10 s (reference §2.1 `sandbox_metrics_snapshots`). */
export interface TeamSampleRow {
  id: Generated<string>;
  team_id: string;
  sampled_at: ColumnType<Date, Date | string | undefined, Date | string>;
  running_count: number;
  vcpus_reserved: number;
  memory_mb_reserved: number;
}

/** Persisted copy of an agent ring-buffer point for paused and destroyed capsules. */
export interface CapsuleMetricPointRow {
  sandbox_id: string;
  tier: MetricTier;
  /** Unix seconds. */
  ts: ColumnType<number, number, number>;
  cpu_pct: number;
  mem_bytes: ColumnType<number, number, number>;
  disk_bytes: ColumnType<number, number, number>;
}

/** Rolled-up usage of one team on one UTC day. NUMERIC columns come back from pg as strings. */
export interface DailyUsageRow {
  team_id: string;
  day: ColumnType<string, string, string>;
  cpu_minutes: ColumnType<string, number | string, number | string>;
  ram_mb_minutes: ColumnType<string, number | string, number | string>;
}

/** Which slot each periodic metrics job last ran, so N control planes run each slot once. */
export interface MetricsJobRunRow {
  job: string;
  last_slot: ColumnType<string, number | string, number | string>;
  ran_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The tables this module owns. */
export interface MetricsTables {
  sandbox_metrics_snapshots: TeamSampleRow;
  sandbox_metric_points: CapsuleMetricPointRow;
  daily_usage: DailyUsageRow;
  metrics_job_runs: MetricsJobRunRow;
}
