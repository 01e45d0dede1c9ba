import type { Kysely } from "kysely";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database, TeamRole } from "../db/schema.ts";
import { errors } from "../errors.ts";
import type { AuditLog } from "./audit-log.ts";
import type { Mailer } from "./mailer.ts";
import { insertTeamWithOwner, membershipOf } from "./team-store.ts";

/** A team member as the API shows it. */
export interface MemberView {
  user_id: string;
  name: string;
  email: string;
  role: TeamRole;
  joined_at: string;
}

const MANAGERS = ["owner", "admin"] as const;

/** Dependencies of the team service. */
export interface TeamServiceDeps {
  db: Kysely<Database>;
  audit: AuditLog;
  mailer: Mailer;
  /** Stops every active capsule of a team (team deletion). */
  /** Stops the team's capsules and removes its templates and metrics (before the row is soft-deleted). */
  teamDeleted: (teamId: string) => Promise<void>;
}

/** Teams, roles and membership. Another team's id is always 404, never 403. */
export function createTeamService(deps: TeamServiceDeps) {
  const { db, audit, mailer } = deps;

  /** The caller's role in `teamId`; 404 when not a member, 403 when it is not the JWT's team. */
  async function roleIn(ctx: AuthContext, teamId: string): Promise<TeamRole> {
    const role = await membershipOf(db, ctx.userId!, teamId);
    if (!role) throw errors.notFound("team");
    if (teamId !== ctx.teamId) throw errors.forbidden("this is not your current team; use switch-team first");
    return role;
  }

  async function manage(ctx: AuthContext, teamId: string): Promise<TeamRole> {
    const role = await roleIn(ctx, teamId);
    if (!(MANAGERS as readonly string[]).includes(role)) throw errors.forbidden("requires role owner or admin");
    return role;
  }

  async function members(teamId: string): Promise<MemberView[]> {
    const rows = await db
      .selectFrom("users_teams as ut")
      .innerJoin("users as u", "u.id", "ut.user_id")
      .select(["u.id", "u.name", "u.email", "ut.role", "ut.created_at"])
      .where("ut.team_id", "=", teamId)
      .orderBy("ut.created_at", "asc")
      .execute();
    return rows.map((r) => ({
      user_id: r.id,
      name: r.name,
      email: r.email,
      role: r.role,
      joined_at: r.created_at.toISOString(),
    }));
  }

  async function memberRow(teamId: string, userId: string) {
    const row = await db
      .selectFrom("users_teams")
      .selectAll()
      .where("team_id", "=", teamId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw errors.notFound("member");
    return row;
  }

  return {
    async listForUser(userId: string) {
      const rows = await db
        .selectFrom("users_teams as ut")
        .innerJoin("teams as t", "t.id", "ut.team_id")
        .select(["t.id", "t.name", "t.slug", "t.is_byoc", "t.created_at", "ut.role"])
        .where("ut.user_id", "=", userId)
        .where("t.deleted_at", "is", null)
        .orderBy("ut.created_at", "asc")
        .execute();
      return rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() }));
    },

    async create(ctx: AuthContext, name: string) {
      const team = await db.transaction().execute((tx) => insertTeamWithOwner(tx, name, ctx.userId!, false));
      const row = await db.selectFrom("teams").selectAll().where("id", "=", team.id).executeTakeFirstOrThrow();
      if (ctx.email)
        void mailer.send({ to: ctx.email, subject: `Team ${name} created`, text: `You created the team ${name}.\n` });
      return {
        id: row.id,
        name: row.name,
        slug: row.slug,
        is_byoc: row.is_byoc,
        created_at: row.created_at.toISOString(),
        role: "owner" as const,
      };
    },

    async get(ctx: AuthContext, teamId: string) {
      await roleIn(ctx, teamId);
      const t = await db.selectFrom("teams").selectAll().where("id", "=", teamId).executeTakeFirstOrThrow();
      return {
        team: { id: t.id, name: t.name, slug: t.slug, is_byoc: t.is_byoc, created_at: t.created_at.toISOString() },
        members: await members(teamId),
      };
    },

    async rename(ctx: AuthContext, teamId: string, name: string) {
      await manage(ctx, teamId);
      const old = await db.selectFrom("teams").select("name").where("id", "=", teamId).executeTakeFirstOrThrow();
      await db.updateTable("teams").set({ name }).where("id", "=", teamId).execute();
      await audit.record(ctx, {
        resource_type: "team",
        resource_id: teamId,
        action: "rename",
        metadata: { old: old.name, new: name },
      });
    },

    async remove(ctx: AuthContext, teamId: string) {
      const role = await roleIn(ctx, teamId);
      if (role !== "owner") throw errors.forbidden("only the owner can delete a team");
      await deps.teamDeleted(teamId);
      await db.transaction().execute(async (tx) => {
        await tx.updateTable("teams").set({ deleted_at: new Date() }).where("id", "=", teamId).execute();
        await tx.deleteFrom("team_api_keys").where("team_id", "=", teamId).execute();
      });
      await audit.record(ctx, {
        resource_type: "team",
        resource_id: teamId,
        action: "delete",
        scope: "admin",
        status: "warning",
      });
    },

    async members(ctx: AuthContext, teamId: string) {
      await roleIn(ctx, teamId);
      return members(teamId);
    },

    async addMember(ctx: AuthContext, teamId: string, email: string): Promise<MemberView> {
      await manage(ctx, teamId);
      const user = await db
        .selectFrom("users")
        .selectAll()
        .where("email", "=", email.trim().toLowerCase())
        .where("status", "=", "active")
        .executeTakeFirst();
      if (!user) throw errors.notFound("user");
      const inserted = await db
        .insertInto("users_teams")
        .values({ team_id: teamId, user_id: user.id, role: "member" })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!inserted) throw errors.conflict("user is already a member");
      await audit.record(ctx, { resource_type: "member", resource_id: user.id, action: "add", scope: "admin" });
      void mailer.send({
        to: user.email,
        subject: "You were added to a Wrenn team",
        text: `${ctx.name ?? "Someone"} added you to a team.\n`,
      });
      return {
        user_id: user.id,
        name: user.name,
        email: user.email,
        role: "member",
        joined_at: inserted.created_at.toISOString(),
      };
    },

    async setRole(ctx: AuthContext, teamId: string, userId: string, role: "admin" | "member") {
      await manage(ctx, teamId);
      const m = await memberRow(teamId, userId);
      if (m.role === "owner") throw errors.forbidden("the owner's role cannot be changed");
      await db
        .updateTable("users_teams")
        .set({ role })
        .where("team_id", "=", teamId)
        .where("user_id", "=", userId)
        .execute();
      await audit.record(ctx, {
        resource_type: "member",
        resource_id: userId,
        action: "role_update",
        scope: "admin",
        metadata: { role },
      });
    },

    async removeMember(ctx: AuthContext, teamId: string, userId: string) {
      await manage(ctx, teamId);
      const m = await memberRow(teamId, userId);
      if (m.role === "owner") throw errors.forbidden("the owner cannot be removed");
      await db.deleteFrom("users_teams").where("team_id", "=", teamId).where("user_id", "=", userId).execute();
      await audit.record(ctx, {
        resource_type: "member",
        resource_id: userId,
        action: "remove",
        scope: "admin",
        status: "warning",
      });
    },

    async leave(ctx: AuthContext, teamId: string) {
      const role = await membershipOf(db, ctx.userId!, teamId);
      if (!role) throw errors.notFound("team");
      if (role === "owner") throw errors.forbidden("the owner cannot leave the team");
      await db.deleteFrom("users_teams").where("team_id", "=", teamId).where("user_id", "=", ctx.userId!).execute();
      await audit.record(ctx, {
        resource_type: "member",
        resource_id: ctx.userId,
        action: "leave",
        scope: "admin",
        teamId,
      });
    },

    /** Email-prefix autocomplete: ≥3 characters including `@`, at most 10 results. */
    async searchUsers(prefix: string) {
      const p = prefix.trim().toLowerCase();
      if (p.length < 3 || !p.includes("@"))
        throw errors.invalidRequest("email prefix must be at least 3 characters and contain @");
      const escaped = p.replace(/[\\%_]/g, (c) => `\\${c}`);
      const rows = await db
        .selectFrom("users")
        .select(["id", "email"])
        .where("email", "like", `${escaped}%`)
        .where("status", "=", "active")
        .orderBy("email")
        .limit(10)
        .execute();
      return rows.map((r) => ({ user_id: r.id, email: r.email }));
    },
  };
}

/** The team service's public shape. */
export type TeamService = ReturnType<typeof createTeamService>;
