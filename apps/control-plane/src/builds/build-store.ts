import { type Kysely, type Selectable, sql } from "kysely";
import type { BuildLogEntry, BuildStatus, Database, TemplateBuildsTable } from "../db/schema.ts";

/** A `template_builds` row. */
export type BuildRow = Selectable<TemplateBuildsTable>;

/** A build as the API shows it (reference §1.2 `GET /v1/admin/builds/{id}`). */
export interface BuildView {
  id: string;
  name: string;
  base_template: string;
  recipe: string[];
  healthcheck: string;
  vcpus: number;
  memory_mb: number;
  skip_pre_post: boolean;
  status: BuildStatus;
  current_step: number;
  total_steps: number;
  logs: BuildLogEntry[];
  error: string | null;
  sandbox_id: string | null;
  host_id: string | null;
  default_user: string | null;
  default_env: Record<string, string> | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

/** Shapes a build row for the API. */
export function buildView(b: BuildRow): BuildView {
  return {
    id: b.id,
    name: b.name,
    base_template: b.base_template,
    recipe: b.recipe,
    healthcheck: b.healthcheck,
    vcpus: b.vcpus,
    memory_mb: b.memory_mb,
    skip_pre_post: b.skip_pre_post,
    status: b.status,
    current_step: b.current_step,
    total_steps: b.total_steps,
    logs: b.logs ?? [],
    error: b.error,
    sandbox_id: b.sandbox_id,
    host_id: b.host_id,
    default_user: b.default_user,
    default_env: b.default_env,
    created_at: b.created_at.toISOString(),
    started_at: b.started_at?.toISOString() ?? null,
    completed_at: b.completed_at?.toISOString() ?? null,
  };
}

/**
 * Takes the oldest pending build, if any, for `leaseMs`. `FOR UPDATE SKIP LOCKED` makes concurrent claims (other
 * workers, other control planes) pick different rows, so no build is ever run twice.
 */
export async function claimPendingBuild(db: Kysely<Database>, leaseMs: number): Promise<BuildRow | undefined> {
  const r = await sql<BuildRow>`
    update template_builds
       set status = 'running', started_at = now(), lease_until = now() + ${`${leaseMs} milliseconds`}::interval
     where status = 'pending'
       and id = (select id from template_builds where status = 'pending'
                  order by created_at, id limit 1 for update skip locked)
    returning *`.execute(db);
  return r.rows[0];
}

/**
 * Extends a running build's lease. False when the build is no longer running (cancelled, or failed by another
 * control plane that saw the lease lapse): its worker must stop.
 */
export async function renewLease(db: Kysely<Database>, id: string, leaseMs: number): Promise<boolean> {
  const r = await db
    .updateTable("template_builds")
    .set({ lease_until: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
    .where("id", "=", id)
    .where("status", "=", "running")
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Fails running builds whose lease lapsed (their control plane died); returns them for clean-up. */
export async function failLapsedBuilds(db: Kysely<Database>): Promise<BuildRow[]> {
  return db
    .updateTable("template_builds")
    .set({
      status: "failed",
      error: "the control plane running this build stopped responding",
      completed_at: new Date(),
      lease_until: null,
    })
    .where("status", "=", "running")
    .where("lease_until", "<", sql<Date>`now()`)
    .returningAll()
    .execute();
}

/** Writes progress of a running build; false when it is no longer running (cancelled meanwhile). */
export async function updateRunningBuild(
  db: Kysely<Database>,
  id: string,
  values: {
    current_step?: number;
    logs?: BuildLogEntry[];
    sandbox_id?: string;
    host_id?: string | null;
  },
): Promise<boolean> {
  const { logs, ...rest } = values;
  const r = await db
    .updateTable("template_builds")
    .set({ ...rest, ...(logs ? { logs: JSON.stringify(logs) } : {}) })
    .where("id", "=", id)
    .where("status", "=", "running")
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Ends a running build as `success` or `failed`; a build cancelled meanwhile keeps `cancelled`. */
export async function finishBuild(
  db: Kysely<Database>,
  id: string,
  outcome:
    | { status: "success"; template_id: string; default_user: string; default_env: Record<string, string> }
    | { status: "failed"; error: string },
): Promise<boolean> {
  const values =
    outcome.status === "success"
      ? { ...outcome, default_env: JSON.stringify(outcome.default_env) }
      : { status: outcome.status, error: outcome.error };
  const r = await db
    .updateTable("template_builds")
    .set({ ...values, completed_at: new Date(), lease_until: null })
    .where("id", "=", id)
    .where("status", "=", "running")
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The uploaded archive of a build, if it has one. */
export async function loadArchive(db: Kysely<Database>, id: string): Promise<Uint8Array | undefined> {
  const row = await db
    .selectFrom("template_build_archives")
    .select("content")
    .where("build_id", "=", id)
    .executeTakeFirst();
  return row?.content;
}

/** Drops a finished build's archive (it is only needed while the build runs). */
export async function dropArchive(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom("template_build_archives").where("build_id", "=", id).execute();
}
