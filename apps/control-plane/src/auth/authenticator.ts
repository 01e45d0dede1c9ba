import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { sha256Hex } from "../ids.ts";
import type { AuthContext } from "./auth-context.ts";
import type { TokenSigner } from "./tokens.ts";

/** Options of the authenticator. */
export interface AuthenticatorOptions {
  /**
   * How long a resolved API key is trusted from memory, in ms (default 5000). Revoking a key on
   * this replica takes effect at once; other replicas see it within this window.
   */
  keyCacheMs?: number;
  /** How often `last_used` is written per key, in ms (default 30000), so hot keys do not write per request. */
  lastUsedEveryMs?: number;
}

const API_KEY_RE = /^wrn_[0-9a-f]{32}$/;

/** Turns request credentials (API key, user JWT) into an AuthContext. */
export function createAuthenticator(db: Kysely<Database>, tokens: TokenSigner, opts: AuthenticatorOptions = {}) {
  const keyCacheMs = opts.keyCacheMs ?? 5000;
  const lastUsedEveryMs = opts.lastUsedEveryMs ?? 30_000;
  // Keyed by the key itself, so a cached key costs no hashing; entries are dropped when they expire.
  const keyCache = new Map<string, { ctx: AuthContext; until: number }>();
  const lastUsedWritten = new Map<string, number>();

  function touchKey(id: string) {
    const now = Date.now();
    if ((lastUsedWritten.get(id) ?? 0) + lastUsedEveryMs > now) return;
    lastUsedWritten.set(id, now);
    db.updateTable("team_api_keys")
      .set({ last_used: new Date(now) })
      .where("id", "=", id)
      .execute()
      .catch(() => {});
  }

  return {
    /** Resolves an API key (`wrn_` + 32 hex) to its team; 401 when unknown or revoked. */
    async apiKey(key: string): Promise<AuthContext> {
      const cached = keyCache.get(key);
      if (cached) {
        if (cached.until > Date.now()) {
          touchKey(cached.ctx.keyId!);
          return cached.ctx;
        }
        keyCache.delete(key);
      }
      if (!API_KEY_RE.test(key)) throw errors.unauthorized("invalid API key");
      const hash = sha256Hex(key);
      const row = await db
        .selectFrom("team_api_keys as k")
        .innerJoin("teams as t", "t.id", "k.team_id")
        .select(["k.id", "k.team_id"])
        .where("k.key_hash", "=", hash)
        .where("t.deleted_at", "is", null)
        .executeTakeFirst();
      if (!row) throw errors.unauthorized("invalid API key");
      const ctx: AuthContext = { kind: "api_key", teamId: row.team_id, keyId: row.id, isAdmin: false };
      if (keyCacheMs > 0) keyCache.set(key, { ctx, until: Date.now() + keyCacheMs });
      touchKey(row.id);
      return ctx;
    },

    /** Verifies a user JWT and re-reads the user and membership, so disabled users and removed members lose access at once. */
    async jwt(token: string): Promise<AuthContext> {
      const claims = await tokens.verifyUser(token);
      const row = await db
        .selectFrom("users as u")
        .leftJoin("users_teams as ut", (j) => j.onRef("ut.user_id", "=", "u.id").on("ut.team_id", "=", claims.team_id))
        .leftJoin("teams as t", (j) => j.onRef("t.id", "=", "ut.team_id").on("t.deleted_at", "is", null))
        .select(["u.id", "u.email", "u.name", "u.status", "u.is_admin", "ut.role", "t.id as team_id"])
        .where("u.id", "=", claims.sub)
        .executeTakeFirst();
      if (!row || row.status === "deleted") throw errors.unauthorized("invalid or expired token");
      if (row.status !== "active") throw errors.accountDeactivated();
      if (!row.role || !row.team_id) throw errors.noTeam();
      return {
        kind: "user",
        teamId: row.team_id,
        userId: row.id,
        email: row.email,
        name: row.name,
        role: row.role,
        isAdmin: row.is_admin,
      };
    },

    /** Forgets cached API keys of a team (after a revoke on this replica). */
    forgetKeys(): void {
      keyCache.clear();
    },
  };
}

/** The authenticator's public shape. */
export type Authenticator = ReturnType<typeof createAuthenticator>;
