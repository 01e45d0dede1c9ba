import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { Logger } from "pino";
import { hashPassword, verifyPassword } from "../auth/passwords.ts";
import type { TokenSigner } from "../auth/tokens.ts";
import type { Database, User } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId, randomHex, sha256Hex } from "../ids.ts";
import type { Mailer } from "./mailer.ts";
import { defaultTeamOf, insertTeamWithOwner, membershipOf } from "./team-store.ts";

const ACTIVATION_TTL_MS = 30 * 60_000;
const RESET_TTL_MS = 15 * 60_000;
const SIGNUP_COOLDOWN_MS = 30 * 60_000;

/** The answer of signup-activation, login, switch-team and rename. */
export interface AuthResponse {
  token: string;
  user_id: string;
  team_id: string;
  email: string;
  name: string;
}

/** Dependencies of the auth service. */
export interface AuthServiceDeps {
  db: Kysely<Database>;
  tokens: TokenSigner;
  mailer: Mailer;
  log: Logger;
  /** Base URL of the API, for links in emails. */
  publicUrl: string;
}

/** Signup, activation, login, team switching and password resets (reference §7). */
export function createAuthService(deps: AuthServiceDeps) {
  const { db, tokens, mailer, log } = deps;

  async function issue(user: Pick<User, "id" | "email" | "name" | "is_admin">, teamId: string, role: string) {
    const token = await tokens.signUser({
      sub: user.id,
      team_id: teamId,
      role,
      email: user.email,
      name: user.name,
      is_admin: user.is_admin,
    });
    return { token, user_id: user.id, team_id: teamId, email: user.email, name: user.name } satisfies AuthResponse;
  }

  /** Makes the first user ever to hold a team a platform admin, and ensures the user has a team. */
  async function ensureTeam(user: User): Promise<{ user: User; teamId: string; role: string }> {
    return db.transaction().execute(async (tx) => {
      // Serialise first-admin election and default-team creation across replicas.
      await sql`select pg_advisory_xact_lock(424242)`.execute(tx);
      let team = await defaultTeamOf(tx, user.id);
      if (!team) {
        const t = await insertTeamWithOwner(tx, `${user.name}'s Team`, user.id, true);
        team = { id: t.id, role: "owner" };
      }
      let u = user;
      const admins = await tx
        .selectFrom("users")
        .select(sql<number>`count(*)::int`.as("n"))
        .where("is_admin", "=", true)
        .executeTakeFirstOrThrow();
      if (admins.n === 0) {
        u = await tx
          .updateTable("users")
          .set({ is_admin: true })
          .where("id", "=", user.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        log.info({ userId: user.id }, "first user became platform admin");
      }
      return { user: u, teamId: team.id, role: team.role };
    });
  }

  async function createUserToken(userId: string, kind: "activation" | "password_reset", ttlMs: number) {
    const token = randomHex(16);
    await db
      .insertInto("user_tokens")
      .values({ token_hash: sha256Hex(token), user_id: userId, kind, expires_at: new Date(Date.now() + ttlMs) })
      .execute();
    return token;
  }

  async function consumeUserToken(token: string, kind: "activation" | "password_reset") {
    const row = await db
      .deleteFrom("user_tokens")
      .where("token_hash", "=", sha256Hex(token))
      .where("kind", "=", kind)
      .returning(["user_id", "expires_at"])
      .executeTakeFirst();
    if (!row || row.expires_at.getTime() < Date.now()) throw errors.invalidToken();
    return row.user_id;
  }

  return {
    issue,
    ensureTeam,

    async signup(input: { email: string; password: string; name: string }): Promise<void> {
      const email = input.email.trim().toLowerCase();
      const existing = await db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
      if (existing) {
        if (existing.status !== "inactive") throw errors.emailTaken();
        if (Date.now() - existing.created_at.getTime() < SIGNUP_COOLDOWN_MS) throw errors.signupCooldown();
        await db.deleteFrom("users").where("id", "=", existing.id).execute();
      }
      const id = newId("usr");
      await db
        .insertInto("users")
        .values({ id, email, name: input.name, password_hash: await hashPassword(input.password), status: "inactive" })
        .execute();
      const token = await createUserToken(id, "activation", ACTIVATION_TTL_MS);
      const link = `${deps.publicUrl}/auth/activate?token=${token}`;
      log.info({ userId: id, activationLink: link }, "user signed up");
      await mailer.send({
        to: email,
        subject: "Activate your Wrenn account",
        text: `Hello ${input.name},\n\nActivate your account within 30 minutes: ${link}\n\nActivation token: ${token}\n`,
      });
    },

    async activate(token: string): Promise<AuthResponse> {
      const userId = await consumeUserToken(token, "activation");
      const user = await db
        .updateTable("users")
        .set({ status: "active", updated_at: new Date() })
        .where("id", "=", userId)
        .where("status", "=", "inactive")
        .returningAll()
        .executeTakeFirst();
      if (!user) throw errors.alreadyActivated();
      const r = await ensureTeam(user);
      log.info({ userId }, "user activated");
      return issue(r.user, r.teamId, r.role);
    },

    async login(emailIn: string, password: string): Promise<AuthResponse> {
      const email = emailIn.trim().toLowerCase();
      const user = await db
        .selectFrom("users")
        .selectAll()
        .where("email", "=", email)
        .where("status", "!=", "deleted")
        .executeTakeFirst();
      if (!user?.password_hash || !(await verifyPassword(user.password_hash, password))) throw errors.wrongPassword();
      if (user.status === "inactive") throw errors.accountNotActivated();
      if (user.status === "disabled") throw errors.accountDisabled();
      const r = await ensureTeam(user);
      return issue(r.user, r.teamId, r.role);
    },

    async switchTeam(userId: string, teamId: string): Promise<AuthResponse> {
      const role = await membershipOf(db, userId, teamId);
      if (!role) throw errors.notFound("team");
      const user = await db.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirstOrThrow();
      return issue(user, teamId, role);
    },

    async requestPasswordReset(emailIn: string): Promise<void> {
      const email = emailIn.trim().toLowerCase();
      const user = await db
        .selectFrom("users")
        .selectAll()
        .where("email", "=", email)
        .where("status", "=", "active")
        .executeTakeFirst();
      if (!user) return; // always 204: do not reveal which emails exist
      const token = await createUserToken(user.id, "password_reset", RESET_TTL_MS);
      await mailer.send({
        to: email,
        subject: "Reset your Wrenn password",
        text: `Reset your password within 15 minutes: ${deps.publicUrl}/reset-password?token=${token}\n\nReset token: ${token}\n`,
      });
    },

    async confirmPasswordReset(token: string, newPassword: string): Promise<void> {
      const userId = await consumeUserToken(token, "password_reset");
      await db
        .updateTable("users")
        .set({ password_hash: await hashPassword(newPassword), updated_at: new Date() })
        .where("id", "=", userId)
        .execute();
    },
  };
}

/** The auth service's public shape. */
export type AuthService = ReturnType<typeof createAuthService>;
