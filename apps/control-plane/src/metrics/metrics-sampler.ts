/**
 * Worker: the team capacity sampler (reference §6a). Every 10 s, and once at start, it writes one
 * `sandbox_metrics_snapshots` row per team that has any capsule row, then prunes samples older than 60 days.
 * Runs in every control plane; the advisory lock plus `claimSlot` make exactly one of them sample each tick.
 */
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { claimSlot, METRICS_LOCK_KEYS, runWithAdvisoryLock } from "./advisory-lock.ts";
import { type Clock, PeriodicJob } from "./periodic-job.ts";
import { pruneOldMetrics } from "./prune.ts";
import type { MetricsTables } from "./tables.ts";
import { recordTeamSamples } from "./team-samples.ts";

/** Job name in `metrics_job_runs` and logs. */
export const SAMPLER_JOB = "metrics-sampler";
/** Sample period: each row stands for 10 s, which the usage arithmetic (× 10/60) relies on. */
export const SAMPLER_INTERVAL_MS = 10_000;

/** Dependencies of the sampler. */
export interface MetricsSamplerDeps {
  db: Kysely<MetricsTables>;
  log: Logger;
  clock?: Clock;
  /** Override of the tick period, for tests only. Default 10 s. */
  intervalMs?: number;
  /** Called after each tick this replica won, with the rows written (metrics counters, tests). */
  onSampled?: (rows: number, slot: number) => void;
}

/**
 * Works one tick: samples if this replica wins the slot, then prunes. `sampled_at` is the slot's start, so samples
 * of different replicas line up and a duplicate would be visible.
 */
export async function sampleTick(deps: MetricsSamplerDeps, slot: number, now: Date): Promise<number | undefined> {
  const intervalMs = deps.intervalMs ?? SAMPLER_INTERVAL_MS;
  const res = await runWithAdvisoryLock(deps.db, METRICS_LOCK_KEYS.sampler, async (trx) => {
    if (!(await claimSlot(trx, SAMPLER_JOB, slot))) return undefined;
    return recordTeamSamples(trx, new Date(slot * intervalMs));
  });
  if (!res.ran || res.value === undefined) return undefined;
  deps.onSampled?.(res.value, slot);
  // Outside the sampling transaction: pruning is batched and never holds the lock the next tick needs.
  const pruned = await pruneOldMetrics(deps.db, now);
  if (pruned.samples + pruned.points > 0) deps.log.info({ ...pruned }, "pruned old metrics");
  return res.value;
}

/** Creates the sampler worker; the owner calls `start()` at boot and `stop()` on shutdown. */
export function createMetricsSampler(deps: MetricsSamplerDeps): PeriodicJob {
  const log = deps.log.child({ worker: SAMPLER_JOB });
  return new PeriodicJob(
    {
      name: SAMPLER_JOB,
      intervalMs: deps.intervalMs ?? SAMPLER_INTERVAL_MS,
      run: async (slot, now) => {
        await sampleTick({ ...deps, log }, slot, now);
      },
    },
    log,
    deps.clock,
  );
}
