import { type Kysely, sql } from "kysely";
import type { Logger } from "pino";
import type { Database, User } from "../db/schema.ts";
import { newId } from "../ids.ts";
import type { AuthResponse, AuthService } from "../services/auth-service.ts";
import { insertTeamWithOwner } from "../services/team-store.ts";
import type { OAuthProfile } from "./oauth-provider.ts";
import type { OAuthIntent } from "./oauth-state.ts";

/** The `?error=` codes the callback sends the browser back with (reference §7). */
export type OAuthCallbackErrorCode =
  | "access_denied"
  | "invalid_state"
  | "missing_code"
  | "exchange_failed"
  | "no_account"
  | "email_taken"
  | "account_deactivated"
  | "db_error"
  | "internal_error";

/** A sign-in that ends on the frontend's callback page with `?error=<code>`. */
export class OAuthCallbackError extends Error {
  override readonly name = "OAuthCallbackError";
  constructor(
    readonly code: OAuthCallbackErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Dependencies of provider sign-in. */
export interface SignInDeps {
  db: Kysely<Database>;
  auth: AuthService;
  log: Logger;
}

/** A signed-in user, and whether the account was created just now (the frontend then confirms the name). */
export interface SignInResult {
  auth: AuthResponse;
  isNewSignup: boolean;
}

/**
 * Logs in the user linked to the provider identity, or, with the signup intent, registers a new one
 * (reference §7 "GitHub OAuth"). Throws OAuthCallbackError for every outcome the user should see.
 */
export async function signInWithProvider(
  deps: SignInDeps,
  provider: string,
  profile: OAuthProfile,
  intent: OAuthIntent,
): Promise<SignInResult> {
  const linked = await linkedUser(deps.db, provider, profile.providerId);
  if (linked) return { auth: await logIn(deps, linked), isNewSignup: false };
  if (intent === "login") throw new OAuthCallbackError("no_account", "no account is linked to this identity");
  const created = await register(deps, provider, profile);
  if (created === "linked_meanwhile") {
    const user = await linkedUser(deps.db, provider, profile.providerId);
    if (!user) throw new OAuthCallbackError("email_taken", "the identity was linked and unlinked concurrently");
    return { auth: await logIn(deps, user), isNewSignup: false };
  }
  deps.log.info({ userId: created.user.id, provider, isAdmin: created.user.is_admin }, "user signed up with OAuth");
  return { auth: await deps.auth.issue(created.user, created.teamId, "owner"), isNewSignup: true };
}

async function linkedUser(db: Kysely<Database>, provider: string, providerId: string): Promise<User | undefined> {
  return db
    .selectFrom("oauth_providers as p")
    .innerJoin("users as u", "u.id", "p.user_id")
    .selectAll("u")
    .where("p.provider", "=", provider)
    .where("p.provider_id", "=", providerId)
    .executeTakeFirst();
}

async function logIn(deps: SignInDeps, user: User): Promise<AuthResponse> {
  if (user.status !== "active") {
    throw new OAuthCallbackError("account_deactivated", `account is ${user.status}`);
  }
  const r = await deps.auth.ensureTeam(user);
  return deps.auth.issue(r.user, r.teamId, r.role);
}

/**
 * Creates user, default team, membership and provider link in one transaction. The first user ever becomes
 * platform admin. An unactivated email signup for the same address gives way; any other holder of it wins.
 */
async function register(
  deps: SignInDeps,
  provider: string,
  profile: OAuthProfile,
): Promise<{ user: User; teamId: string } | "linked_meanwhile"> {
  return deps.db.transaction().execute(async (tx) => {
    // The lock auth-service's ensureTeam takes: one first-admin election, and one signup per identity at a time.
    await sql`select pg_advisory_xact_lock(424242)`.execute(tx);
    if (await linkedUser(tx, provider, profile.providerId)) return "linked_meanwhile" as const;
    const holder = await tx
      .selectFrom("users")
      .select(["id", "status"])
      .where("email", "=", profile.email)
      .executeTakeFirst();
    if (holder && holder.status !== "inactive") {
      throw new OAuthCallbackError("email_taken", "another account already uses this email");
    }
    if (holder) await tx.deleteFrom("users").where("id", "=", holder.id).execute();
    const { n } = await tx.selectFrom("users").select(sql<number>`count(*)::int`.as("n")).executeTakeFirstOrThrow();
    const user = await tx
      .insertInto("users")
      .values({
        id: newId("usr"),
        email: profile.email,
        name: profile.name,
        password_hash: null,
        status: "active",
        is_admin: n === 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const team = await insertTeamWithOwner(tx, `${profile.name}'s Team`, user.id, true);
    await tx
      .insertInto("oauth_providers")
      .values({ provider, provider_id: profile.providerId, user_id: user.id, email: profile.email })
      .execute();
    return { user, teamId: team.id };
  });
}
