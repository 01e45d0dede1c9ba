import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { TokenSigner } from "../auth/tokens.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import { newId, randomHex, sha256Hex } from "../ids.ts";
import { type HostView, hostView } from "./host-views.ts";

/** Registration tokens are valid one hour; refresh tokens 60 days (reference §7). */
export const REGISTRATION_TTL_MS = 3600_000;
export const REFRESH_TTL_MS = 60 * 24 * 3600_000;

/** What the agent gets back from register and refresh. */
export interface HostCredentials {
  host: HostView;
  /** Host JWT (typ "host"), sent as `X-Host-Token` on heartbeats. */
  token: string;
  refresh_token: string;
  /** Bearer secret the control plane presents on every agent RPC. */
  agent_key: string;
}

/** Specs an agent reports when it registers. */
export interface HostSpecs {
  token: string;
  arch: string;
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  address: string;
}

/** Registration-token minting, agent registration and credential refresh. */
export function createHostRegistration(db: Kysely<Database>, tokens: TokenSigner) {
  async function issueRefresh(tx: Kysely<Database>, hostId: string): Promise<string> {
    const refresh = randomHex(32);
    await tx
      .insertInto("host_refresh_tokens")
      .values({
        id: newId("hrt"),
        host_id: hostId,
        token_hash: sha256Hex(refresh),
        expires_at: new Date(Date.now() + REFRESH_TTL_MS),
      })
      .execute();
    return refresh;
  }

  return {
    /** A fresh one-hour registration token for a host (stored hashed). */
    async mintRegistrationToken(hostId: string, createdBy: string | null): Promise<string> {
      const token = randomHex(32);
      await db
        .insertInto("host_tokens")
        .values({
          id: newId("htok"),
          host_id: hostId,
          token_hash: sha256Hex(token),
          created_by: createdBy,
          expires_at: new Date(Date.now() + REGISTRATION_TTL_MS),
        })
        .execute();
      return token;
    },

    /** Consumes the token atomically and brings a pending host online with its specs. */
    async register(specs: HostSpecs): Promise<HostCredentials> {
      return db.transaction().execute(async (tx) => {
        const used = await tx
          .updateTable("host_tokens")
          .set({ used_at: new Date() })
          .where("token_hash", "=", sha256Hex(specs.token))
          .where("used_at", "is", null)
          .where("expires_at", ">", new Date())
          .returning("host_id")
          .executeTakeFirst();
        if (!used) throw errors.unauthorized("invalid or expired registration token");
        const agentKey = randomHex(32);
        const host = await tx
          .updateTable("hosts")
          .set({
            arch: specs.arch,
            cpu_cores: specs.cpu_cores,
            memory_mb: specs.memory_mb,
            disk_gb: specs.disk_gb,
            address: specs.address,
            status: "online",
            last_heartbeat_at: new Date(),
            agent_key: agentKey,
            updated_at: new Date(),
          })
          .where("id", "=", used.host_id)
          .where("status", "=", "pending")
          .returningAll()
          .executeTakeFirst();
        if (!host) throw errors.conflict("host is not pending registration");
        const refresh = await issueRefresh(tx, host.id);
        return {
          host: hostView(host),
          token: await tokens.signHost(host.id),
          refresh_token: refresh,
          agent_key: agentKey,
        };
      });
    },

    /** Rotates the host JWT and refresh token: the new pair is issued, then the old token is revoked. */
    async refresh(refreshToken: string): Promise<HostCredentials> {
      return db.transaction().execute(async (tx) => {
        const old = await tx
          .updateTable("host_refresh_tokens")
          .set({ revoked_at: new Date() })
          .where("token_hash", "=", sha256Hex(refreshToken))
          .where("revoked_at", "is", null)
          .where("expires_at", ">", new Date())
          .returning("host_id")
          .executeTakeFirst();
        if (!old) throw errors.unauthorized("invalid or expired refresh token");
        const host = await tx.selectFrom("hosts").selectAll().where("id", "=", old.host_id).executeTakeFirst();
        if (!host) throw errors.hostNotFound(old.host_id);
        const refresh = await issueRefresh(tx, host.id);
        return {
          host: hostView(host),
          token: await tokens.signHost(host.id),
          refresh_token: refresh,
          agent_key: host.agent_key ?? "",
        };
      });
    },

    /** Records a heartbeat; an unreachable host comes back online. Returns whether it was unreachable. */
    async heartbeat(hostId: string, metadata?: Record<string, string>): Promise<{ wasUnreachable: boolean }> {
      const before = await db.selectFrom("hosts").select("status").where("id", "=", hostId).executeTakeFirst();
      if (!before) throw errors.hostNotFound(hostId);
      await db
        .updateTable("hosts")
        .set({
          last_heartbeat_at: new Date(),
          status: sql`case when status = 'unreachable' then 'online' else status end`,
          ...(metadata ? { metadata: JSON.stringify(metadata) } : {}),
        })
        .where("id", "=", hostId)
        .execute();
      return { wasUnreachable: before.status === "unreachable" };
    },
  };
}

/** The registration helper's public shape. */
export type HostRegistration = ReturnType<typeof createHostRegistration>;
