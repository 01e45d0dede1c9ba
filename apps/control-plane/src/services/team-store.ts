import type { Kysely, Transaction } from "kysely";
import type { Database, TeamRole } from "../db/schema.ts";
import { newId, randomHex } from "../ids.ts";

type Db = Kysely<Database> | Transaction<Database>;

/** Creates a team with `userId` as its owner (inside the caller's transaction). */
export async function insertTeamWithOwner(
  db: Db,
  name: string,
  userId: string,
  isDefault: boolean,
): Promise<{ id: string; name: string; slug: string }> {
  const team = { id: newId("team"), name, slug: `${randomHex(3)}-${randomHex(3)}` };
  await db.insertInto("teams").values(team).execute();
  await db
    .insertInto("users_teams")
    .values({ team_id: team.id, user_id: userId, role: "owner", is_default: isDefault })
    .execute();
  return team;
}

/** The user's default team (or the earliest joined), with the user's role; undefined if none. */
export async function defaultTeamOf(db: Db, userId: string): Promise<{ id: string; role: TeamRole } | undefined> {
  const row = await db
    .selectFrom("users_teams as ut")
    .innerJoin("teams as t", "t.id", "ut.team_id")
    .select(["t.id", "ut.role"])
    .where("ut.user_id", "=", userId)
    .where("t.deleted_at", "is", null)
    .orderBy("ut.is_default", "desc")
    .orderBy("ut.created_at", "asc")
    .executeTakeFirst();
  return row;
}

/** The user's role in a live team, or undefined when not a member. */
export async function membershipOf(db: Db, userId: string, teamId: string): Promise<TeamRole | undefined> {
  const row = await db
    .selectFrom("users_teams as ut")
    .innerJoin("teams as t", "t.id", "ut.team_id")
    .select("ut.role")
    .where("ut.user_id", "=", userId)
    .where("ut.team_id", "=", teamId)
    .where("t.deleted_at", "is", null)
    .executeTakeFirst();
  return row?.role;
}
