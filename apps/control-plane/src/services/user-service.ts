import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { AuthContext } from "../auth/auth-context.ts";
import { hashPassword, verifyPassword } from "../auth/passwords.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { providersOf } from "../oauth/index.ts";
import type { AuditLog } from "./audit-log.ts";
import type { AuthService } from "./auth-service.ts";
import type { Mailer } from "./mailer.ts";

/** Dependencies of the user service. */
export interface UserServiceDeps {
  db: Kysely<Database>;
  auth: AuthService;
  audit: AuditLog;
  /** Tells the user their password was changed or added. */
  mailer: Mailer;
  stopTeamCapsules: (teamId: string) => Promise<void>;
  /** Stops the team's capsules and removes its templates and metrics (teams deleted with their owner). */
  teamDeleted: (teamId: string) => Promise<void>;
}

const PER_PAGE = 100;

/** The caller's own profile (`/v1/me`) and the admin user list. */
export function createUserService(deps: UserServiceDeps) {
  const { db } = deps;
  const load = async (id: string) => db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  return {
    async me(ctx: AuthContext) {
      const u = await load(ctx.userId!);
      return {
        name: u.name,
        email: u.email,
        has_password: u.password_hash !== null,
        providers: await providersOf(db, u.id),
      };
    },

    async rename(ctx: AuthContext, name: string) {
      const u = await db
        .updateTable("users")
        .set({ name, updated_at: new Date() })
        .where("id", "=", ctx.userId!)
        .returningAll()
        .executeTakeFirstOrThrow();
      return deps.auth.issue(u, ctx.teamId, ctx.role ?? "member");
    },

    async changePassword(
      ctx: AuthContext,
      input: { current_password?: string; new_password: string; confirm_password?: string },
    ) {
      const u = await load(ctx.userId!);
      if (input.confirm_password !== undefined && input.confirm_password !== input.new_password) {
        throw errors.invalidRequest("confirm_password does not match new_password");
      }
      if (!u.password_hash && input.confirm_password === undefined) {
        throw errors.invalidRequest("confirm_password is required when adding a password");
      }
      if (u.password_hash && !(await verifyPassword(u.password_hash, input.current_password ?? "")))
        throw errors.wrongPassword();
      await db
        .updateTable("users")
        .set({ password_hash: await hashPassword(input.new_password), updated_at: new Date() })
        .where("id", "=", u.id)
        .execute();
      await deps.mailer.send(
        u.password_hash
          ? {
              to: u.email,
              subject: "Your Wrenn password was changed",
              text: `Hello ${u.name},\n\nYour account password was changed. If you did not make this change, reset your password immediately.\n`,
            }
          : {
              to: u.email,
              subject: "Password added to your Wrenn account",
              text: `Hello ${u.name},\n\nA password was added to your Wrenn account. You can now sign in with your email and password as well as with your connected providers.\n`,
            },
      );
    },

    /** Soft-deletes the caller: their sole-owned teams go, their keys go, status becomes `deleted`. */
    async deleteMe(ctx: AuthContext, confirmation: string) {
      const u = await load(ctx.userId!);
      if (confirmation.trim().toLowerCase() !== u.email)
        throw errors.invalidRequest("confirmation must equal your email");
      const shared = await db
        .selectFrom("users_teams as ut")
        .innerJoin("teams as t", "t.id", "ut.team_id")
        .select("t.id")
        .where("ut.user_id", "=", u.id)
        .where("ut.role", "=", "owner")
        .where("t.deleted_at", "is", null)
        .where(sql<boolean>`exists (select 1 from users_teams o where o.team_id = t.id and o.user_id <> ${u.id})`)
        .execute();
      if (shared.length > 0) throw errors.ownsTeamWithMembers();
      const owned = await db
        .selectFrom("users_teams as ut")
        .innerJoin("teams as t", "t.id", "ut.team_id")
        .select("t.id")
        .where("ut.user_id", "=", u.id)
        .where("ut.role", "=", "owner")
        .where("t.deleted_at", "is", null)
        .execute();
      for (const t of owned) await deps.teamDeleted(t.id);
      await db.transaction().execute(async (tx) => {
        for (const t of owned)
          await tx.updateTable("teams").set({ deleted_at: new Date() }).where("id", "=", t.id).execute();
        await tx.deleteFrom("team_api_keys").where("created_by", "=", u.id).execute();
        await tx
          .updateTable("users")
          .set({ status: "deleted", deleted_at: new Date() })
          .where("id", "=", u.id)
          .execute();
      });
    },

    async adminList(page: number) {
      const total = (
        await db
          .selectFrom("users")
          .select(sql<number>`count(*)::int`.as("n"))
          .where("status", "!=", "deleted")
          .executeTakeFirstOrThrow()
      ).n;
      const rows = await db
        .selectFrom("users as u")
        .select([
          "u.id",
          "u.email",
          "u.name",
          "u.is_admin",
          "u.status",
          "u.created_at",
          sql<number>`(select count(*)::int from users_teams ut where ut.user_id = u.id)`.as("teams_joined"),
          sql<number>`(select count(*)::int from users_teams ut where ut.user_id = u.id and ut.role = 'owner')`.as(
            "teams_owned",
          ),
        ])
        .where("u.status", "!=", "deleted")
        .orderBy("u.created_at", "asc")
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
        .execute();
      return {
        users: rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() })),
        total,
        page,
        per_page: PER_PAGE,
        total_pages: Math.max(1, Math.ceil(total / PER_PAGE)),
      };
    },

    /** Activates or disables a user; disabling stops the capsules of teams they own. */
    async adminSetActive(ctx: AuthContext, userId: string, active: boolean) {
      if (userId === ctx.userId && !active) throw errors.invalidRequest("you cannot disable yourself");
      const u = await db
        .selectFrom("users")
        .selectAll()
        .where("id", "=", userId)
        .where("status", "!=", "deleted")
        .executeTakeFirst();
      if (!u) throw errors.notFound("user");
      await db
        .updateTable("users")
        .set({ status: active ? "active" : "disabled", updated_at: new Date() })
        .where("id", "=", userId)
        .execute();
      if (!active) {
        const owned = await db
          .selectFrom("users_teams")
          .select("team_id")
          .where("user_id", "=", userId)
          .where("role", "=", "owner")
          .execute();
        for (const t of owned) await deps.stopTeamCapsules(t.team_id);
      }
      await deps.audit.record(ctx, {
        resource_type: "user",
        resource_id: userId,
        action: active ? "activate" : "deactivate",
        scope: "admin",
      });
    },
  };
}

/** The user service's public shape. */
export type UserService = ReturnType<typeof createUserService>;
