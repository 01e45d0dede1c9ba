/**
 * Daily usage (reference §6b): vCPU-minutes and RAM-MB-minutes per UTC day. Each 10 s team sample stands for 1/6
 * of a minute, so a day's usage is Σ vcpus_reserved × 10/60 and Σ memory_mb_reserved × 10/60. Completed days are
 * rolled up into `daily_usage`; today is always computed live.
 */
import { type Kysely, sql } from "kysely";
import type { MetricsTables } from "./tables.ts";

/** Usage of one team on one day. `date` is `YYYY-MM-DD` (UTC). */
export interface UsagePoint {
  date: string;
  cpu_minutes: number;
  ram_mb_minutes: number;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the UTC day containing `d`. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Adds `days` to a `YYYY-MM-DD` date (UTC calendar arithmetic). */
export function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** Whole days from `from` to `to` (`to − from`), both `YYYY-MM-DD`. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** Computes one team's usage on one UTC day from its samples in [day 00:00, next day 00:00). */
export async function computeDailyUsage(db: Kysely<MetricsTables>, teamId: string, day: string): Promise<UsagePoint> {
  const start = new Date(`${day}T00:00:00Z`);
  const end = new Date(start.getTime() + DAY_MS);
  const { rows } = await sql<{ cpu_minutes: string; ram_mb_minutes: string }>`
    SELECT COALESCE(SUM(vcpus_reserved     * 10.0 / 60.0), 0)::numeric(18,4) AS cpu_minutes,
           COALESCE(SUM(memory_mb_reserved * 10.0 / 60.0), 0)::numeric(18,4) AS ram_mb_minutes
    FROM sandbox_metrics_snapshots
    WHERE team_id = ${teamId} AND sampled_at >= ${start} AND sampled_at < ${end}`.execute(db);
  return {
    date: day,
    cpu_minutes: Number(rows[0]?.cpu_minutes ?? 0),
    ram_mb_minutes: Number(rows[0]?.ram_mb_minutes ?? 0),
  };
}

/** Inserts or overwrites the stored usage of (team, day). */
export async function upsertDailyUsage(db: Kysely<MetricsTables>, teamId: string, usage: UsagePoint): Promise<void> {
  await sql`
    INSERT INTO daily_usage (team_id, day, cpu_minutes, ram_mb_minutes)
    VALUES (${teamId}, ${usage.date}::date, ${usage.cpu_minutes}, ${usage.ram_mb_minutes})
    ON CONFLICT (team_id, day) DO UPDATE
      SET cpu_minutes = EXCLUDED.cpu_minutes, ram_mb_minutes = EXCLUDED.ram_mb_minutes`.execute(db);
}

/** Recomputes and stores one team's usage of one day. */
export async function rollupDay(db: Kysely<MetricsTables>, teamId: string, day: string): Promise<UsagePoint> {
  const usage = await computeDailyUsage(db, teamId, day);
  await upsertDailyUsage(db, teamId, usage);
  return usage;
}

/** Teams with any sample after `since` (the rollup's work list). */
export async function teamsWithSamples(db: Kysely<MetricsTables>, since: Date): Promise<string[]> {
  const { rows } = await sql<{ team_id: string }>`
    SELECT DISTINCT team_id FROM sandbox_metrics_snapshots WHERE sampled_at > ${since} ORDER BY team_id`.execute(db);
  return rows.map((r) => r.team_id);
}

/**
 * Completed days (before `today`, after `since`) that have samples but no `daily_usage` row — what a control plane
 * that was down at the day boundary never rolled up. One scan; the rollup runs it once per process start.
 */
export async function daysMissingRollup(
  db: Kysely<MetricsTables>,
  since: Date,
  today: string,
): Promise<Array<{ team_id: string; day: string }>> {
  const end = new Date(`${today}T00:00:00Z`);
  const { rows } = await sql<{ team_id: string; day: string }>`
    SELECT s.team_id, to_char(s.day, 'YYYY-MM-DD') AS day
    FROM (SELECT DISTINCT team_id, (sampled_at AT TIME ZONE 'UTC')::date AS day
          FROM sandbox_metrics_snapshots
          WHERE sampled_at > ${since} AND sampled_at < ${end}) AS s
    LEFT JOIN daily_usage u ON u.team_id = s.team_id AND u.day = s.day
    WHERE u.team_id IS NULL
    ORDER BY s.day, s.team_id`.execute(db);
  return rows;
}

/**
 * Usage of one team for `from`..`to` inclusive (`YYYY-MM-DD`), oldest first: stored rows for days before today,
 * plus today computed live when the range includes it. Days without data are absent, as in the reference.
 */
export async function getDailyUsage(
  db: Kysely<MetricsTables>,
  teamId: string,
  from: string,
  to: string,
  now: Date,
): Promise<UsagePoint[]> {
  const today = utcDay(now);
  const storedTo = to < today ? to : addDays(today, -1);
  const points: UsagePoint[] = [];
  if (from <= storedTo) {
    const { rows } = await sql<{ date: string; cpu_minutes: string; ram_mb_minutes: string }>`
      SELECT to_char(day, 'YYYY-MM-DD') AS date, cpu_minutes, ram_mb_minutes
      FROM daily_usage
      WHERE team_id = ${teamId} AND day >= ${from}::date AND day <= ${storedTo}::date
      ORDER BY day`.execute(db);
    for (const r of rows) {
      points.push({ date: r.date, cpu_minutes: Number(r.cpu_minutes), ram_mb_minutes: Number(r.ram_mb_minutes) });
    }
  }
  if (from <= today && today <= to) points.push(await computeDailyUsage(db, teamId, today));
  return points;
}
