import type { Kysely } from "kysely";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId, randomHex, sha256Hex } from "../ids.ts";
import type { AuditLog } from "./audit-log.ts";

/** An API key as the API shows it (never the plaintext, except once at creation). */
export interface ApiKeyView {
  id: string;
  team_id: string;
  name: string;
  key_prefix: string;
  created_by: string | null;
  created_at: string;
  creator_email?: string | null;
  last_used?: string | null;
}

/** Team API keys: `wrn_` + 32 hex, stored as SHA-256, shown once. */
export function createApiKeyService(db: Kysely<Database>, audit: AuditLog, onRevoke: () => void) {
  return {
    /** Mints a key for the caller's team; the plaintext is in `key` and nowhere else. */
    async create(ctx: AuthContext, name: string | undefined): Promise<ApiKeyView & { key: string }> {
      const key = `wrn_${randomHex(16)}`;
      const row = await db
        .insertInto("team_api_keys")
        .values({
          id: newId("key"),
          team_id: ctx.teamId,
          name: name?.trim() || "Unnamed API Key",
          key_hash: sha256Hex(key),
          key_prefix: key.slice(0, 10),
          created_by: ctx.userId ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit.record(ctx, { resource_type: "api_key", resource_id: row.id, action: "create" });
      return {
        id: row.id,
        team_id: row.team_id,
        name: row.name,
        key_prefix: row.key_prefix,
        created_by: row.created_by,
        created_at: row.created_at.toISOString(),
        key,
      };
    },

    async list(teamId: string): Promise<ApiKeyView[]> {
      const rows = await db
        .selectFrom("team_api_keys as k")
        .leftJoin("users as u", "u.id", "k.created_by")
        .select([
          "k.id",
          "k.team_id",
          "k.name",
          "k.key_prefix",
          "k.created_by",
          "k.created_at",
          "k.last_used",
          "u.email",
        ])
        .where("k.team_id", "=", teamId)
        .orderBy("k.created_at", "desc")
        .execute();
      return rows.map((r) => ({
        id: r.id,
        team_id: r.team_id,
        name: r.name,
        key_prefix: r.key_prefix,
        created_by: r.created_by,
        created_at: r.created_at.toISOString(),
        creator_email: r.email,
        last_used: r.last_used?.toISOString() ?? null,
      }));
    },

    /** Revokes a key of the caller's team; another team's key is 404. */
    async revoke(ctx: AuthContext, id: string): Promise<void> {
      const r = await db
        .deleteFrom("team_api_keys")
        .where("id", "=", id)
        .where("team_id", "=", ctx.teamId)
        .executeTakeFirst();
      if (r.numDeletedRows === 0n) throw errors.notFound("API key");
      onRevoke();
      await audit.record(ctx, { resource_type: "api_key", resource_id: id, action: "revoke", status: "warning" });
    },
  };
}

/** The API key service's public shape. */
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
