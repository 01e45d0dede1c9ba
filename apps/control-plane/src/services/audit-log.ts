import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database } from "../db/schema.ts";
import { newId } from "../ids.ts";

/** One audit entry (reference §7 "Audit log events"). */
export interface AuditEntry {
  resource_type: string;
  resource_id?: string | null;
  action: string;
  scope?: "team" | "admin";
  status?: "success" | "info" | "warning" | "error";
  metadata?: Record<string, unknown>;
  /** Overrides the actor's team (host events of regular hosts go to the platform team). */
  teamId?: string;
}

/** Writes audit rows. Failures are logged and swallowed: auditing never fails the user's request. */
export interface AuditLog {
  record(actor: AuthContext | "system", entry: AuditEntry): Promise<void>;
}

/** Creates the audit writer. */
export function createAuditLog(db: Kysely<Database>, log: Logger): AuditLog {
  return {
    async record(actor, entry) {
      const isSystem = actor === "system";
      try {
        await db
          .insertInto("audit_logs")
          .values({
            id: newId("log"),
            team_id: entry.teamId ?? (isSystem ? "" : actor.teamId),
            actor_type: isSystem ? "system" : actor.kind,
            actor_id: isSystem ? null : (actor.userId ?? actor.keyId ?? null),
            actor_name: isSystem ? "system" : (actor.name ?? actor.email ?? null),
            resource_type: entry.resource_type,
            resource_id: entry.resource_id ?? null,
            action: entry.action,
            scope: entry.scope ?? "team",
            status: entry.status ?? "success",
            metadata: JSON.stringify(entry.metadata ?? {}),
          })
          .execute();
      } catch (err) {
        log.error({ err, entry }, "audit write failed");
      }
    },
  };
}
