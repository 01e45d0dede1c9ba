import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.ts";

/** One page request of an audit log (reference §1.1, keyset on `(created_at, id)`, newest first). */
export interface AuditLogQuery {
  teamId: string;
  /** Which scopes to include: `team`, plus `admin` for team owners/admins and the platform log. */
  scopes: ReadonlyArray<"team" | "admin">;
  /** Only these resource types / actions; empty means all. */
  resourceTypes: readonly string[];
  actions: readonly string[];
  /** Exclusive cursor: rows strictly older than `before`, or as old with an id below `beforeId`. RFC3339. */
  before?: string;
  beforeId?: string;
  limit: number;
}

/** An audit row as the API shows it. */
export interface AuditLogItem {
  id: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  resource_type: string;
  resource_id: string | null;
  action: string;
  scope: string;
  status: string;
  metadata: Record<string, unknown>;
  created_at: string;
}

/** A page plus the cursor of the next one (null when this is the last page). */
export interface AuditLogPage {
  items: AuditLogItem[];
  next_before: string | null;
  next_before_id: string | null;
}

/**
 * `created_at` in UTC with all six fractional digits: the cursor handed back must be exact, or rows that share
 * the millisecond of a page's last row would be skipped or repeated.
 */
const createdAtText = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Reads audit logs a page at a time. */
export function createAuditLogReader(db: Kysely<Database>) {
  return {
    async page(q: AuditLogQuery): Promise<AuditLogPage> {
      let query = db
        .selectFrom("audit_logs")
        .select([
          "id",
          "actor_type",
          "actor_id",
          "actor_name",
          "resource_type",
          "resource_id",
          "action",
          "scope",
          "status",
          "metadata",
          createdAtText.as("created_at"),
        ])
        .where("team_id", "=", q.teamId)
        .where("scope", "in", [...q.scopes]);
      if (q.resourceTypes.length > 0) query = query.where("resource_type", "in", [...q.resourceTypes]);
      if (q.actions.length > 0) query = query.where("action", "in", [...q.actions]);
      if (q.before !== undefined) {
        const before = sql`${q.before}::timestamptz`;
        query =
          q.beforeId !== undefined
            ? query.where(sql<boolean>`(created_at, id) < (${before}, ${q.beforeId})`)
            : query.where(sql<boolean>`created_at < ${before}`);
      }
      // One row more than asked says whether another page exists without a second query.
      const rows = await query
        .orderBy("audit_logs.created_at", "desc")
        .orderBy("id", "desc")
        .limit(q.limit + 1)
        .execute();
      const items = rows.slice(0, q.limit) as AuditLogItem[];
      const last = rows.length > q.limit ? items[items.length - 1] : undefined;
      return { items, next_before: last?.created_at ?? null, next_before_id: last?.id ?? null };
    },
  };
}

/** The audit log reader's public shape. */
export type AuditLogReader = ReturnType<typeof createAuditLogReader>;
