import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { PLATFORM_TEAM_ID } from "../ids.ts";
import type { AuditLog } from "./audit-log.ts";

const PER_PAGE = 100;

/** Platform-admin views and actions over every team. */
export function createAdminTeamService(
  db: Kysely<Database>,
  audit: AuditLog,
  teamDeleted: (teamId: string) => Promise<void>,
) {
  async function liveTeam(id: string) {
    const t = await db
      .selectFrom("teams")
      .selectAll()
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    if (!t || t.id === PLATFORM_TEAM_ID) throw errors.notFound("team");
    return t;
  }
  return {
    async list(page: number) {
      const total = (
        await db
          .selectFrom("teams")
          .select(sql<number>`count(*)::int`.as("n"))
          .where("id", "!=", PLATFORM_TEAM_ID)
          .executeTakeFirstOrThrow()
      ).n;
      const rows = await db
        .selectFrom("teams as t")
        .select([
          "t.id",
          "t.name",
          "t.slug",
          "t.is_byoc",
          "t.created_at",
          "t.deleted_at",
          sql<number>`(select count(*)::int from users_teams ut where ut.team_id = t.id)`.as("member_count"),
          sql<
            string | null
          >`(select u.name from users_teams ut join users u on u.id = ut.user_id where ut.team_id = t.id and ut.role = 'owner' limit 1)`.as(
            "owner_name",
          ),
          sql<
            string | null
          >`(select u.email from users_teams ut join users u on u.id = ut.user_id where ut.team_id = t.id and ut.role = 'owner' limit 1)`.as(
            "owner_email",
          ),
          sql<number>`(select count(*)::int from capsules c where c.team_id = t.id and c.status in ('running','paused','starting','pending'))`.as(
            "active_sandbox_count",
          ),
          sql<number>`0`.as("channel_count"),
        ])
        .where("t.id", "!=", PLATFORM_TEAM_ID)
        .orderBy("t.created_at", "asc")
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
        .execute();
      return {
        teams: rows.map((r) => ({
          ...r,
          created_at: r.created_at.toISOString(),
          deleted_at: r.deleted_at?.toISOString() ?? null,
        })),
        total,
        page,
        per_page: PER_PAGE,
        total_pages: Math.max(1, Math.ceil(total / PER_PAGE)),
      };
    },

    /** Enables BYOC for a team; it can never be disabled again (reference §7). */
    async setByoc(ctx: AuthContext, id: string, enabled: boolean) {
      const t = await liveTeam(id);
      if (!enabled) {
        if (t.is_byoc) throw errors.invalidRequest("BYOC cannot be disabled once enabled");
        return;
      }
      await db.updateTable("teams").set({ is_byoc: true }).where("id", "=", id).execute();
      await audit.record(ctx, {
        resource_type: "team",
        resource_id: id,
        action: "set_byoc",
        scope: "admin",
        teamId: id,
      });
    },

    async remove(ctx: AuthContext, id: string) {
      await liveTeam(id);
      await teamDeleted(id);
      await db.transaction().execute(async (tx) => {
        await tx.updateTable("teams").set({ deleted_at: new Date() }).where("id", "=", id).execute();
        await tx.deleteFrom("team_api_keys").where("team_id", "=", id).execute();
      });
      await audit.record(ctx, {
        resource_type: "team",
        resource_id: id,
        action: "delete",
        scope: "admin",
        status: "warning",
        teamId: id,
      });
    },
  };
}

/** The admin team service's public shape. */
export type AdminTeamService = ReturnType<typeof createAdminTeamService>;
