/**
 * Figures for the metrics SQL on the real PostgreSQL 15: one sampler tick over many teams' capsules, and a 30-day
 * stats series and usage day over a full month of 10 s samples of one team.
 *   node --import tsx bench/metrics-queries.ts [teams=2000] [capsulesPerTeam=5]
 */
import { sql } from "kysely";
import { computeDailyUsage } from "../apps/control-plane/src/metrics/daily-usage.ts";
import { getStatsBuckets } from "../apps/control-plane/src/metrics/stats-series.ts";
import { recordTeamSamples } from "../apps/control-plane/src/metrics/team-samples.ts";
import { openPostgres } from "../apps/control-plane/src/metrics/testing/test-db.ts";

const teams = Number(process.argv[2] ?? 2000);
const perTeam = Number(process.argv[3] ?? 5);
const t = await openPostgres();
const time = async <T>(label: string, fn: () => Promise<T>, runs = 5): Promise<T> => {
  let out!: T;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    out = await fn();
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label}: median ${ms[Math.floor(runs / 2)]?.toFixed(1)} ms (min ${ms[0]?.toFixed(1)}, ${runs} runs)`);
  return out;
};
try {
  const statuses = ["running", "paused", "stopped", "starting", "error"];
  await sql`INSERT INTO teams (id, name, slug) SELECT 'team-b' || g, 'b' || g, 'b' || g FROM generate_series(1, ${teams}) g`.execute(
    t.db,
  );
  await sql`
    INSERT INTO capsules (id, team_id, template, status, vcpus, memory_mb)
    SELECT 'cl-b' || g || '-' || c, 'team-b' || g, 'minimal', (${sql.val(statuses)}::text[])[1 + (g + c) % 5], 1 + c % 4, 256 * (1 + c % 8)
    FROM generate_series(1, ${teams}) g, generate_series(1, ${perTeam}) c`.execute(t.db);
  console.log(`${teams} teams × ${perTeam} capsules`);
  let slot = 0;
  const rows = await time("sampler tick (INSERT … SELECT over all capsules)", () =>
    recordTeamSamples(t.db, new Date(Date.UTC(2026, 0, 1) + slot++ * 10_000)),
  );
  console.log(`  rows per tick: ${rows}`);
  const month = 30 * 8640;
  const now = new Date(Date.UTC(2026, 3, 1));
  await sql`
    INSERT INTO sandbox_metrics_snapshots (team_id, sampled_at, running_count, vcpus_reserved, memory_mb_reserved)
    SELECT 'team-month', ${now}::timestamptz - make_interval(secs => g * 10), g % 7, g % 11, (g % 13) * 256
    FROM generate_series(1, ${month}) g`.execute(t.db);
  await sql`ANALYZE sandbox_metrics_snapshots`.execute(t.db);
  console.log(`one team with ${month} samples (30 days × 8640)`);
  const buckets = await time("stats series 30d (21600 s buckets)", () =>
    getStatsBuckets(t.db, "team-month", "30d", now),
  );
  console.log(`  buckets: ${buckets.length}`);
  await time("stats series 24h (720 s buckets)", () => getStatsBuckets(t.db, "team-month", "24h", now));
  await time("daily usage of one day", () => computeDailyUsage(t.db, "team-month", "2026-03-15"));
} finally {
  await t.close();
}
