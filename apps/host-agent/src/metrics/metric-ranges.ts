/**
 * The API ranges of `GetCapsuleMetrics` and which tier answers each (reference §6c):
 * 5m/10m → 10m tier, 1h/2h → 2h tier, 6h/12h/24h → 24h tier, cut off at the range before now.
 */
import type { MetricRings, MetricSample, MetricTier } from "./metric-rings.ts";

/** Ranges a client may ask for. */
export const METRIC_RANGES = ["5m", "10m", "1h", "2h", "6h", "12h", "24h"] as const;
export type MetricRange = (typeof METRIC_RANGES)[number];

/** Tier and lookback (seconds) of each range. */
export const RANGE_TIER: Readonly<Record<MetricRange, { tier: MetricTier; cutoffSec: number }>> = {
  "5m": { tier: "10m", cutoffSec: 300 },
  "10m": { tier: "10m", cutoffSec: 600 },
  "1h": { tier: "2h", cutoffSec: 3600 },
  "2h": { tier: "2h", cutoffSec: 7200 },
  "6h": { tier: "24h", cutoffSec: 21_600 },
  "12h": { tier: "24h", cutoffSec: 43_200 },
  "24h": { tier: "24h", cutoffSec: 86_400 },
};

/** True for a range the agent serves. */
export function isMetricRange(s: string): s is MetricRange {
  return (METRIC_RANGES as readonly string[]).includes(s);
}

/** Points of `range` held in `rings`, oldest first, none older than the range before `nowMs`. */
export function pointsForRange(rings: MetricRings, range: MetricRange, nowMs: number): MetricSample[] {
  const { tier, cutoffSec } = RANGE_TIER[range];
  const cutoffMs = nowMs - cutoffSec * 1000;
  return rings.tier(tier).filter((p) => p.timestampMs >= cutoffMs);
}
