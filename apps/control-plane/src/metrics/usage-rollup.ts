/**
 * Worker: the daily usage rollup (reference §6b). Hourly, and once at start, it recomputes yesterday (UTC) for every
 * team with samples in the last 93 days and upserts `daily_usage`. On its first run in a process it also fills in
 * completed days that have samples but no rollup (the control plane was down at the day boundary).
 * Runs in every control plane; the advisory lock plus `claimSlot` make one of them work each hour.
 */
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { claimSlot, METRICS_LOCK_KEYS, runWithAdvisoryLock } from "./advisory-lock.ts";
import { addDays, daysMissingRollup, rollupDay, teamsWithSamples, utcDay } from "./daily-usage.ts";
import { type Clock, PeriodicJob } from "./periodic-job.ts";
import type { MetricsTables } from "./tables.ts";

/** Job name in `metrics_job_runs` and logs. */
export const USAGE_ROLLUP_JOB = "usage-rollup";
/** Rollup period. */
export const USAGE_ROLLUP_INTERVAL_MS = 3_600_000;
const LOOKBACK_MS = 93 * 86_400_000;

/** Dependencies of the rollup. */
export interface UsageRollupDeps {
  db: Kysely<MetricsTables>;
  log: Logger;
  clock?: Clock;
}

/**
 * Rolls up yesterday for every recently active team (and, with `backfill`, every completed day left without a
 * row). Returns the number of (team, day) rows written.
 */
export async function rollupUsage(db: Kysely<MetricsTables>, now: Date, backfill: boolean): Promise<number> {
  const today = utcDay(now);
  const yesterday = addDays(today, -1);
  const since = new Date(now.getTime() - LOOKBACK_MS);
  const work = (await teamsWithSamples(db, since)).map((team_id) => ({ team_id, day: yesterday }));
  if (backfill) {
    for (const m of await daysMissingRollup(db, since, today)) {
      if (m.day !== yesterday) work.push(m);
    }
  }
  for (const w of work) await rollupDay(db, w.team_id, w.day);
  return work.length;
}

/** Creates the rollup worker; the owner calls `start()` at boot and `stop()` on shutdown. */
export function createUsageRollup(deps: UsageRollupDeps): PeriodicJob {
  const log = deps.log.child({ worker: USAGE_ROLLUP_JOB });
  let backfilled = false;
  return new PeriodicJob(
    {
      name: USAGE_ROLLUP_JOB,
      intervalMs: USAGE_ROLLUP_INTERVAL_MS,
      run: async (slot, now) => {
        const res = await runWithAdvisoryLock(deps.db, METRICS_LOCK_KEYS.usageRollup, async (trx) => {
          // Without a claim, a restart within the hour would still work the slot once for its backfill.
          if (!(await claimSlot(trx, USAGE_ROLLUP_JOB, slot)) && backfilled) return 0;
          return rollupUsage(trx, now, !backfilled);
        });
        if (res.ran) {
          backfilled = true;
          if (res.value > 0) log.info({ rows: res.value }, "daily usage rolled up");
        }
      },
    },
    log,
    deps.clock,
  );
}
