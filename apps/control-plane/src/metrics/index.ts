/**
 * Metrics, capacity chart data and usage (issue 6): the public surface the rest of the control plane wires in.
 * See README.md in this folder for the hook points.
 */

export type { LockedRun } from "./advisory-lock.ts";
export { claimSlot, METRICS_LOCK_KEYS, runWithAdvisoryLock } from "./advisory-lock.ts";
export type { CapsuleMetricPoint, CapsuleMetricRange, FlushedTiers, WireMetricPoint } from "./capsule-points.ts";
export {
  CAPSULE_METRIC_RANGES,
  CAPSULE_RANGE_TIER,
  deleteCapsulePoints,
  deleteTeamMetrics,
  fromWire,
  getCapsulePoints,
  insertCapsulePoints,
  persistFlushedMetrics,
} from "./capsule-points.ts";
export type { CpMetrics, CpPrometheusOptions } from "./cp-prometheus.ts";
export { cpPrometheusPlugin, createCpMetrics } from "./cp-prometheus.ts";
export type { UsagePoint } from "./daily-usage.ts";
export { computeDailyUsage, getDailyUsage, rollupDay, upsertDailyUsage } from "./daily-usage.ts";
export type { MetricsSamplerDeps } from "./metrics-sampler.ts";
export { createMetricsSampler, SAMPLER_INTERVAL_MS, sampleTick } from "./metrics-sampler.ts";
export { METRICS_MIGRATION_NAME, metricsMigration } from "./migration.ts";
export type { Clock } from "./periodic-job.ts";
export { PeriodicJob } from "./periodic-job.ts";
export { METRICS_RETENTION_DAYS, pruneOldMetrics } from "./prune.ts";
export type { CapsuleMetricsAgent, CapsuleRef, MetricsRoutesOptions } from "./routes/index.ts";
export { metricsRoutes, registerCapsuleMetricsRoute } from "./routes/index.ts";
export type { StatsRange } from "./stats-series.ts";
export { getStatsBuckets, STATS_RANGE_CONFIG, STATS_RANGES } from "./stats-series.ts";
export type { MetricsTables, MetricTier } from "./tables.ts";
export { CAPSULE_TABLE } from "./tables.ts";
export type { TeamPeaks, TeamReservation, TeamSample } from "./team-samples.ts";
export { getLiveMetrics, getPeakMetrics, recordTeamSamples, sampleTeamMetrics } from "./team-samples.ts";
export { createUsageRollup, rollupUsage } from "./usage-rollup.ts";
