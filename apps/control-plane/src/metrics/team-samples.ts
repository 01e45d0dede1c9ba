/**
 * Team capacity figures (reference §6a): what each team holds right now, the per-tick samples, and 30-day peaks.
 *
 * Formulas, shared by the sampler and the live read so the "now" card and the chart never disagree:
 * - running_count  = capsules in `running` or `starting`;
 * - vcpus_reserved = their vCPUs (a paused VM releases its CPU);
 * - memory_mb_reserved = their memory in full + Σ ceil(memory_mb / 2) over paused capsules, rounded per VM
 *   (three paused 511 MB capsules hold 768 MB, not ceil(1533 / 2) = 767).
 */
import { type Kysely, type RawBuilder, sql } from "kysely";
import { CAPSULE_TABLE, type MetricsTables } from "./tables.ts";

/** Current reservation of one team. */
export interface TeamReservation {
  running_count: number;
  vcpus_reserved: number;
  memory_mb_reserved: number;
}

/** One team's figures as sampled. */
export interface TeamSample extends TeamReservation {
  team_id: string;
}

/** 30-day maxima of the samples, named as the stats route returns them. */
export interface TeamPeaks {
  running_count: number;
  vcpus: number;
  memory_mb: number;
}

const capsules = sql.table(CAPSULE_TABLE);

// The aggregates use FILTER, not WHERE: a team whose capsules are all stopped must still yield a row of zeros.
const aggregates = sql`
  (COUNT(*) FILTER (WHERE status IN ('running', 'starting')))::integer AS running_count,
  (COALESCE(SUM(vcpus) FILTER (WHERE status IN ('running', 'starting')), 0))::integer AS vcpus_reserved,
  (COALESCE(SUM(memory_mb) FILTER (WHERE status IN ('running', 'starting')), 0)
   + COALESCE(SUM(CEIL(memory_mb::numeric / 2)) FILTER (WHERE status = 'paused'), 0))::integer AS memory_mb_reserved`;

/** The seed's fixed query: one row per team that has any capsule row, stopped ones included. No WHERE. */
const sampleQuery: RawBuilder<TeamSample> = sql<TeamSample>`
  SELECT team_id::text AS team_id, ${aggregates}
  FROM ${capsules}
  GROUP BY team_id`;

/** Samples every team that has any capsule row (stopped ones included), without writing anything. */
export async function sampleTeamMetrics(db: Kysely<MetricsTables>): Promise<TeamSample[]> {
  const { rows } = await sampleQuery.execute(db);
  return rows.map(toNumbers).sort((a, b) => a.team_id.localeCompare(b.team_id));
}

/**
 * Samples and stores one row per team at `sampledAt` in a single statement (so the read and the write see the
 * same capsule rows). Returns how many rows were written.
 */
export async function recordTeamSamples(db: Kysely<MetricsTables>, sampledAt: Date): Promise<number> {
  const res = await sql`
    INSERT INTO sandbox_metrics_snapshots (team_id, running_count, vcpus_reserved, memory_mb_reserved, sampled_at)
    SELECT s.team_id, s.running_count, s.vcpus_reserved, s.memory_mb_reserved, ${sampledAt}
    FROM (${sampleQuery}) AS s`.execute(db);
  return Number(res.numAffectedRows ?? 0n);
}

/** Live figures of one team straight from the capsule table (all zeros for a team without capsules). */
export async function getLiveMetrics(db: Kysely<MetricsTables>, teamId: string): Promise<TeamReservation> {
  const { rows } = await sql<TeamReservation>`
    SELECT ${aggregates} FROM ${capsules} WHERE team_id = ${teamId}`.execute(db);
  const r = rows[0];
  return r ? toNumbers(r) : { running_count: 0, vcpus_reserved: 0, memory_mb_reserved: 0 };
}

/** Maxima of the team's samples over the 30 days before `now` (zeros when there are none). */
export async function getPeakMetrics(db: Kysely<MetricsTables>, teamId: string, now: Date): Promise<TeamPeaks> {
  const since = new Date(now.getTime() - 30 * 86_400_000);
  const { rows } = await sql<TeamPeaks>`
    SELECT COALESCE(MAX(running_count), 0)::integer AS running_count,
           COALESCE(MAX(vcpus_reserved), 0)::integer AS vcpus,
           COALESCE(MAX(memory_mb_reserved), 0)::integer AS memory_mb
    FROM sandbox_metrics_snapshots
    WHERE team_id = ${teamId} AND sampled_at > ${since}`.execute(db);
  const r = rows[0];
  return {
    running_count: Number(r?.running_count ?? 0),
    vcpus: Number(r?.vcpus ?? 0),
    memory_mb: Number(r?.memory_mb ?? 0),
  };
}

function toNumbers<T extends TeamReservation>(r: T): T {
  return {
    ...r,
    running_count: Number(r.running_count),
    vcpus_reserved: Number(r.vcpus_reserved),
    memory_mb_reserved: Number(r.memory_mb_reserved),
  };
}
