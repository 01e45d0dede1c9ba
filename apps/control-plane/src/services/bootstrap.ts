import type { Kysely } from "kysely";
import { hashPassword, verifyPassword } from "../auth/passwords.ts";
import type { Database } from "../db/schema.ts";
import { newId } from "../ids.ts";
import type { Services } from "./container.ts";
import { defaultTeamOf, insertTeamWithOwner } from "./team-store.ts";

/** What `wrenn-cp bootstrap` prints (as JSON) for `wrenn up` and operators. */
export interface BootstrapResult {
  user_id: string;
  team_id: string;
  email: string;
  api_key: string;
  jwt: string;
  host_id: string;
  registration_token: string;
}

/**
 * Idempotently sets up a one-box install: an active platform-admin user (created, or activated
 * and promoted, with this password) with a default team, a fresh API key, and a `regular` host
 * with a fresh one-hour registration token (a still-pending host is reused, so repeated runs do
 * not pile up hosts).
 */
export async function bootstrap(
  db: Kysely<Database>,
  s: Services,
  input: { email: string; password: string; name?: string },
): Promise<BootstrapResult> {
  const email = input.email.trim().toLowerCase();
  let user = await db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
  if (!user) {
    user = await db
      .insertInto("users")
      .values({
        id: newId("usr"),
        email,
        name: input.name ?? email.split("@")[0] ?? "admin",
        password_hash: await hashPassword(input.password),
        status: "active",
        is_admin: true,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } else {
    const samePassword = user.password_hash !== null && (await verifyPassword(user.password_hash, input.password));
    user = await db
      .updateTable("users")
      .set({
        status: "active",
        is_admin: true,
        deleted_at: null,
        updated_at: new Date(),
        ...(samePassword ? {} : { password_hash: await hashPassword(input.password) }),
        ...(input.name ? { name: input.name } : {}),
      })
      .where("id", "=", user.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  const u = user;
  let team = await defaultTeamOf(db, u.id);
  if (!team) {
    const t = await db.transaction().execute((tx) => insertTeamWithOwner(tx, `${u.name}'s Team`, u.id, true));
    team = { id: t.id, role: "owner" };
  }
  const ctx = {
    kind: "user" as const,
    teamId: team.id,
    userId: u.id,
    email: u.email,
    name: u.name,
    role: team.role,
    isAdmin: true,
  };
  const key = await s.apiKeys.create(ctx, "bootstrap");
  const pending = await db
    .selectFrom("hosts")
    .select("id")
    .where("type", "=", "regular")
    .where("status", "=", "pending")
    .where("created_by", "=", u.id)
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  const host = pending
    ? await s.hosts.regenerateToken(ctx, pending.id)
    : await s.hosts.create(ctx, { type: "regular" });
  const auth = await s.auth.issue(u, team.id, team.role);
  return {
    user_id: u.id,
    team_id: team.id,
    email: u.email,
    api_key: key.key,
    jwt: auth.token,
    host_id: host.host.id,
    registration_token: host.registration_token,
  };
}
