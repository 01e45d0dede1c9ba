import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import type { OAuthProfile } from "./oauth-provider.ts";

/** The providers linked to a user, by name (`GET /v1/me` `providers`). */
export async function providersOf(db: Kysely<Database>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("oauth_providers")
    .select("provider")
    .distinct()
    .where("user_id", "=", userId)
    .orderBy("provider")
    .execute();
  return rows.map((r) => r.provider);
}

/**
 * Links a provider identity to `userId` from the settings page. An identity already linked to this user counts
 * as linked; one that belongs to someone else is refused.
 */
export async function linkProvider(
  db: Kysely<Database>,
  userId: string,
  provider: string,
  profile: OAuthProfile,
): Promise<"linked" | "already_linked"> {
  const inserted = await db
    .insertInto("oauth_providers")
    .values({ provider, provider_id: profile.providerId, user_id: userId, email: profile.email })
    .onConflict((oc) => oc.columns(["provider", "provider_id"]).doNothing())
    .returning("user_id")
    .executeTakeFirst();
  if (inserted) return "linked";
  const owner = await db
    .selectFrom("oauth_providers")
    .select("user_id")
    .where("provider", "=", provider)
    .where("provider_id", "=", profile.providerId)
    .executeTakeFirst();
  return owner?.user_id === userId ? "linked" : "already_linked";
}

/** Unlinks every identity of `provider` from the user, unless it is the user's only way to sign in. */
export async function unlinkProvider(db: Kysely<Database>, userId: string, provider: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    // Locks the user row: two concurrent unlinks must not both see the other provider still there.
    const user = await tx
      .selectFrom("users")
      .select("password_hash")
      .where("id", "=", userId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const linked = await providersOf(tx, userId);
    if (!linked.includes(provider)) throw errors.notFound(`${provider} connection`);
    if (user.password_hash === null && linked.length <= 1) throw errors.lastLoginMethod();
    await tx.deleteFrom("oauth_providers").where("user_id", "=", userId).where("provider", "=", provider).execute();
  });
}
