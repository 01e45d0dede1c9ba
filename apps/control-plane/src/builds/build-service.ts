import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId, PLATFORM_TEAM_ID } from "../ids.ts";
import type { AuditLog } from "../services/audit-log.ts";
import { PLATFORM_TEMPLATES, teamTemplate } from "../services/template-store.ts";
import { detectArchiveType } from "./archive-type.ts";
import { type BuildView, buildView } from "./build-store.ts";
import { parseHealthcheck } from "./healthcheck.ts";
import { parseRecipe, RecipeError } from "./recipe.ts";
import { totalSteps } from "./step-scripts.ts";

/** What `POST /v1/admin/builds` carries (defaults applied by the route schema). */
export type BuildInput = Pick<
  BuildView,
  "name" | "base_template" | "recipe" | "healthcheck" | "vcpus" | "memory_mb" | "skip_pre_post"
>;

/** Dependencies of the build service. */
export interface BuildServiceDeps {
  db: Kysely<Database>;
  audit: AuditLog;
  log: Logger;
}

/**
 * Template builds as the admin API sees them: submit (validated, queued in PostgreSQL), list, get, cancel. The build
 * workers (build-workers.ts) run them; this service also tells this process's workers about new builds and lets a
 * cancel reach a build running here at once (others notice at their next lease renewal).
 */
export function createBuildService(deps: BuildServiceDeps) {
  const { db, audit, log } = deps;
  const queuedListeners = new Set<() => void>();
  const localRuns = new Map<string, AbortController>();

  async function get(id: string) {
    const row = await db.selectFrom("template_builds").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw errors.notFound(`build ${id}`);
    return row;
  }

  return {
    async submit(ctx: AuthContext, input: BuildInput, archive?: Uint8Array): Promise<BuildView> {
      if (PLATFORM_TEMPLATES.includes(input.name)) throw errors.nameReserved(input.name);
      let steps: number;
      try {
        const instructions = parseRecipe(input.recipe);
        if (!archive && instructions.some((i) => i.kind === "COPY")) {
          const first = instructions.find((i) => i.kind === "COPY");
          throw new RecipeError(first?.line ?? 0, "COPY needs an archive (upload one as the multipart field archive)");
        }
        steps = totalSteps(instructions.length, input.skip_pre_post);
        if (input.healthcheck.trim() !== "") parseHealthcheck(input.healthcheck);
      } catch (err) {
        throw errors.invalidRequest((err as Error).message);
      }
      if (archive && !detectArchiveType(archive)) {
        throw errors.invalidRequest("archive must be a tar, tar.gz or zip file");
      }
      const base = await teamTemplate(db, PLATFORM_TEAM_ID, input.base_template);
      if (!base) throw errors.invalidRequest(`base_template ${input.base_template} is not a platform template`);
      const id = newId("bld");
      const row = await db.transaction().execute(async (tx) => {
        const inserted = await tx
          .insertInto("template_builds")
          .values({
            id,
            name: input.name,
            base_template: input.base_template,
            recipe: JSON.stringify(input.recipe),
            healthcheck: input.healthcheck.trim(),
            vcpus: input.vcpus,
            memory_mb: input.memory_mb,
            skip_pre_post: input.skip_pre_post,
            status: "pending",
            total_steps: steps,
            logs: "[]",
            error: null,
            sandbox_id: null,
            host_id: null,
            template_id: null,
            default_user: null,
            default_env: null,
            metadata: "{}",
            created_by: ctx.userId ?? null,
            has_archive: archive !== undefined,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (archive)
          await tx.insertInto("template_build_archives").values({ build_id: id, content: archive }).execute();
        return inserted;
      });
      log.info({ buildId: id, template: input.name, archiveBytes: archive?.length ?? 0 }, "build queued");
      await audit.record(ctx, {
        resource_type: "build",
        resource_id: id,
        action: "create",
        scope: "admin",
        teamId: PLATFORM_TEAM_ID,
        metadata: { name: input.name, base_template: input.base_template },
      });
      for (const wake of queuedListeners) wake();
      return buildView(row);
    },

    async list(): Promise<BuildView[]> {
      const rows = await db.selectFrom("template_builds").selectAll().orderBy("created_at", "desc").execute();
      return rows.map(buildView);
    },

    get: async (id: string): Promise<BuildView> => buildView(await get(id)),

    /** Cancels a pending build (never started) or a running one (aborted, its capsule destroyed); 409 otherwise. */
    async cancel(ctx: AuthContext, id: string): Promise<void> {
      const row = await get(id);
      const r = await db
        .updateTable("template_builds")
        .set({ status: "cancelled", completed_at: new Date(), lease_until: null })
        .where("id", "=", id)
        .where("status", "in", ["pending", "running"])
        .returning("status")
        .executeTakeFirst();
      if (!r) throw errors.conflict(`build ${id} is already ${row.status}`);
      localRuns.get(id)?.abort(new Error("build cancelled"));
      log.info({ buildId: id, was: row.status }, "build cancelled");
      await audit.record(ctx, {
        resource_type: "build",
        resource_id: id,
        action: "cancel",
        scope: "admin",
        status: "warning",
        teamId: PLATFORM_TEAM_ID,
        metadata: { name: row.name },
      });
    },

    /** Calls `listener` whenever this process queues a build (its workers then claim without waiting a poll). */
    onQueued(listener: () => void): () => void {
      queuedListeners.add(listener);
      return () => queuedListeners.delete(listener);
    },

    /** Registers a build running in this process, so a cancel here aborts it at once; returns the unregister. */
    trackRun(id: string, controller: AbortController): () => void {
      localRuns.set(id, controller);
      return () => localRuns.delete(id);
    },
  };
}

/** The build service's public shape. */
export type BuildService = ReturnType<typeof createBuildService>;
