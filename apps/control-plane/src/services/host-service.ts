import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AgentPool } from "../agents/agent-pool.ts";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database, Host } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId, PLATFORM_TEAM_ID } from "../ids.ts";
import type { AuditLog } from "./audit-log.ts";
import type { HostRegistration } from "./host-registration.ts";
import { type HostView, hostView } from "./host-views.ts";
import { membershipOf } from "./team-store.ts";

/** Capsule states that block a non-forced host delete. */
const ACTIVE = ["pending", "starting", "running", "missing"] as const;

/** Dependencies of the host service. */
export interface HostServiceDeps {
  db: Kysely<Database>;
  agents: AgentPool;
  registration: HostRegistration;
  audit: AuditLog;
  log: Logger;
}

/** Host records: create (with a registration token), list, get, delete, tags. */
export function createHostService(deps: HostServiceDeps) {
  const { db, agents, audit, log } = deps;

  /** A host the caller may see: admins see all, others their team's BYOC hosts. Else 404. */
  async function visible(ctx: AuthContext, id: string): Promise<Host & { team_name: string | null }> {
    const h = await db
      .selectFrom("hosts as h")
      .leftJoin("teams as t", "t.id", "h.team_id")
      .selectAll("h")
      .select("t.name as team_name")
      .where("h.id", "=", id)
      .executeTakeFirst();
    if (!h || (!ctx.isAdmin && h.team_id !== ctx.teamId)) throw errors.hostNotFound(id);
    return h;
  }

  /** Admins manage every host; team owners/admins manage their team's BYOC hosts. */
  async function manageable(ctx: AuthContext, id: string) {
    const h = await visible(ctx, id);
    if (!ctx.isAdmin && !(h.type === "byoc" && (ctx.role === "owner" || ctx.role === "admin"))) {
      throw errors.forbidden("requires platform admin, or owner/admin of the host's team");
    }
    return h;
  }

  async function activeCapsuleIds(hostId: string): Promise<string[]> {
    const rows = await db
      .selectFrom("capsules")
      .select("id")
      .where("host_id", "=", hostId)
      .where("status", "in", ACTIVE)
      .execute();
    return rows.map((r) => r.id);
  }

  return {
    async create(
      ctx: AuthContext,
      input: { type: "regular" | "byoc"; team_id?: string; provider?: string; availability_zone?: string },
    ): Promise<{ host: HostView; registration_token: string }> {
      let teamId: string | null = null;
      if (input.type === "regular") {
        if (!ctx.isAdmin) throw errors.forbidden("only platform admins create regular hosts");
      } else {
        teamId = input.team_id ?? ctx.teamId;
        const role = ctx.userId ? await membershipOf(db, ctx.userId, teamId) : undefined;
        if (!role && !ctx.isAdmin) throw errors.notFound("team");
        if (!ctx.isAdmin && role !== "owner" && role !== "admin")
          throw errors.forbidden("requires role owner or admin");
        const team = await db.selectFrom("teams").select("is_byoc").where("id", "=", teamId).executeTakeFirst();
        if (!team) throw errors.notFound("team");
        if (!team.is_byoc) throw errors.forbidden("team is not enabled for BYOC hosts");
      }
      const host = await db
        .insertInto("hosts")
        .values({
          id: newId("host"),
          type: input.type,
          team_id: teamId,
          provider: input.provider ?? "",
          availability_zone: input.availability_zone ?? "",
          status: "pending",
          metadata: "{}",
          created_by: ctx.userId ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const token = await deps.registration.mintRegistrationToken(host.id, ctx.userId ?? null);
      await audit.record(ctx, {
        resource_type: "host",
        resource_id: host.id,
        action: "create",
        scope: "admin",
        teamId: teamId ?? PLATFORM_TEAM_ID,
      });
      return { host: hostView(host), registration_token: token };
    },

    async list(ctx: AuthContext): Promise<HostView[]> {
      let q = db
        .selectFrom("hosts as h")
        .leftJoin("teams as t", "t.id", "h.team_id")
        .selectAll("h")
        .select("t.name as team_name");
      if (!ctx.isAdmin) q = q.where("h.team_id", "=", ctx.teamId).where("h.type", "=", "byoc");
      const rows = await q.orderBy("h.created_at", "asc").execute();
      return rows.map(hostView);
    },

    get: async (ctx: AuthContext, id: string) => hostView(await visible(ctx, id)),

    async deletePreview(ctx: AuthContext, id: string) {
      const h = await visible(ctx, id);
      return { host: hostView(h), sandbox_ids: await activeCapsuleIds(id) };
    },

    /** Deletes a host; with active capsules, 409 unless `force`, which destroys them first. */
    async remove(ctx: AuthContext, id: string, force: boolean): Promise<void> {
      const h = await manageable(ctx, id);
      const ids = await activeCapsuleIds(id);
      if (ids.length > 0 && !force) throw errors.hostHasCapsules(ids);
      if (h.address && h.status !== "pending") {
        const client = agents.client({ id: h.id, address: h.address, agentKey: h.agent_key });
        const opts = { timeoutMs: 30_000 };
        for (const capsuleId of ids) {
          await client
            .destroyCapsule({ capsuleId }, opts)
            .catch((err) => log.warn({ err, capsuleId }, "destroy on host delete failed"));
        }
        await client.terminate({}, opts).catch((err) => log.warn({ err, hostId: id }, "terminate failed"));
      }
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable("capsules")
          .set({ status: "stopped", status_reason: "host_deleted", last_updated: new Date() })
          .where("host_id", "=", id)
          .where("status", "not in", ["stopped", "error"])
          .execute();
        await tx.updateTable("host_refresh_tokens").set({ revoked_at: new Date() }).where("host_id", "=", id).execute();
        await tx.deleteFrom("hosts").where("id", "=", id).execute();
      });
      agents.evict(id);
      await audit.record(ctx, {
        resource_type: "host",
        resource_id: id,
        action: "delete",
        scope: "admin",
        status: "warning",
        teamId: h.team_id ?? PLATFORM_TEAM_ID,
      });
    },

    /** A new registration token for a host that has not registered yet. */
    async regenerateToken(ctx: AuthContext, id: string) {
      const h = await manageable(ctx, id);
      if (h.status !== "pending")
        throw errors.conflict("host is already registered; only pending hosts get new tokens");
      const token = await deps.registration.mintRegistrationToken(id, ctx.userId ?? null);
      return { host: hostView(h), registration_token: token };
    },

    async tags(ctx: AuthContext, id: string): Promise<string[]> {
      await visible(ctx, id);
      const rows = await db.selectFrom("host_tags").select("tag").where("host_id", "=", id).orderBy("tag").execute();
      return rows.map((r) => r.tag);
    },

    async addTag(ctx: AuthContext, id: string, tag: string) {
      await manageable(ctx, id);
      await db
        .insertInto("host_tags")
        .values({ host_id: id, tag })
        .onConflict((oc) => oc.doNothing())
        .execute();
    },

    async removeTag(ctx: AuthContext, id: string, tag: string) {
      await manageable(ctx, id);
      await db.deleteFrom("host_tags").where("host_id", "=", id).where("tag", "=", tag).execute();
    },
  };
}

/** The host service's public shape. */
export type HostService = ReturnType<typeof createHostService>;
