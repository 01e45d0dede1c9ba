import type { CompiledQuery, Kysely } from "kysely";
import { sql } from "kysely";
import type { AgentTarget } from "../agents/agent-pool.ts";
import type { Capsule, Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import type { HostLoad } from "./scheduler.ts";

/** A capsule as the API shows it (reference §1.2 Capsule, plus `status_reason`). */
export interface CapsuleView {
  id: string;
  status: string;
  status_reason: string;
  template: string;
  vcpus: number;
  memory_mb: number;
  timeout_sec: number;
  guest_ip?: string;
  host_ip?: string;
  created_at: string;
  started_at?: string;
  last_active_at?: string;
  last_updated: string;
  metadata?: Record<string, string>;
}

/** The columns `capsuleView` reads. */
const VIEW_COLUMNS = [
  "id",
  "status",
  "status_reason",
  "template",
  "vcpus",
  "memory_mb",
  "timeout_sec",
  "guest_ip",
  "host_ip",
  "created_at",
  "started_at",
  "last_active_at",
  "last_updated",
  "metadata",
] as const;
type ViewRow = Pick<Capsule, (typeof VIEW_COLUMNS)[number]>;

/** Shapes a capsule row for the API; empty optional fields are omitted like the reference does. */
export function capsuleView(c: ViewRow): CapsuleView {
  const v: CapsuleView = {
    id: c.id,
    status: c.status,
    status_reason: c.status_reason,
    template: c.template,
    vcpus: c.vcpus,
    memory_mb: c.memory_mb,
    timeout_sec: c.timeout_sec,
    created_at: c.created_at.toISOString(),
    last_updated: c.last_updated.toISOString(),
  };
  if (c.guest_ip) v.guest_ip = c.guest_ip;
  if (c.host_ip) v.host_ip = c.host_ip;
  if (c.started_at) v.started_at = c.started_at.toISOString();
  if (c.last_active_at) v.last_active_at = c.last_active_at.toISOString();
  if (c.metadata && Object.keys(c.metadata).length > 0) v.metadata = c.metadata;
  return v;
}

/** A capsule row with the agent target of its host. */
export type CapsuleWithHost = Capsule & {
  host_address: string | null;
  host_agent_key: string | null;
  host_status: string | null;
};

/** One query: the team's capsule and its host; 404 when it is another team's or unknown. */
export async function capsuleOfTeam(db: Kysely<Database>, teamId: string, id: string): Promise<CapsuleWithHost> {
  const row = await db
    .selectFrom("capsules as c")
    .leftJoin("hosts as h", "h.id", "c.host_id")
    .selectAll("c")
    .select(["h.address as host_address", "h.agent_key as host_agent_key", "h.status as host_status"])
    .where("c.id", "=", id)
    .where("c.team_id", "=", teamId)
    .executeTakeFirst();
  if (!row) throw errors.capsuleNotFound(id);
  return row;
}

/** Any team's capsule and its host (the port proxy, whose only credential is the capsule id); 404 when unknown. */
export async function capsuleWithHost(db: Kysely<Database>, id: string): Promise<CapsuleWithHost> {
  const row = await db
    .selectFrom("capsules as c")
    .leftJoin("hosts as h", "h.id", "c.host_id")
    .selectAll("c")
    .select(["h.address as host_address", "h.agent_key as host_agent_key", "h.status as host_status"])
    .where("c.id", "=", id)
    .executeTakeFirst();
  if (!row) throw errors.capsuleNotFound(id);
  return row;
}

// Built once per database: `GET /v1/capsules/{id}` is the hottest read, and building a query costs more than
// running this one. Only the parameters change between calls.
const viewQueries = new WeakMap<Kysely<Database>, CompiledQuery<ViewRow>>();

/** The team's capsule as the API shows it, in one lean query (no host join); 404 when not the team's. */
export async function capsuleViewOfTeam(db: Kysely<Database>, teamId: string, id: string): Promise<CapsuleView> {
  let q = viewQueries.get(db);
  if (!q) {
    q = db.selectFrom("capsules").select(VIEW_COLUMNS).where("id", "=", "").where("team_id", "=", "").compile();
    viewQueries.set(db, q);
  }
  const { rows } = await db.executeQuery<ViewRow>({ ...q, parameters: [id, teamId] });
  if (!rows[0]) throw errors.capsuleNotFound(id);
  return capsuleView(rows[0]);
}

/** The agent of a capsule's host; 503 when the host is gone or not reachable. */
export function targetOf(c: CapsuleWithHost): AgentTarget {
  if (!c.host_id || !c.host_address) throw errors.hostUnavailable(`host of capsule ${c.id} is gone`);
  if (c.host_status !== "online") throw errors.hostUnavailable(`host of capsule ${c.id} is ${c.host_status}`);
  return { id: c.host_id, address: c.host_address, agentKey: c.host_agent_key };
}

/** Online hosts a team may use (its BYOC hosts, or the regular ones) with their current load. */
export async function loadCandidates(db: Kysely<Database>, teamId: string, byoc: boolean): Promise<HostLoad[]> {
  let q = db
    .selectFrom("hosts as h")
    .select([
      "h.id",
      "h.address",
      "h.agent_key",
      "h.cpu_cores",
      "h.memory_mb",
      "h.disk_gb",
      sql<number>`coalesce(sum(c.vcpus) filter (where c.status in ('running','starting','pending')), 0)::int`.as(
        "active_vcpus",
      ),
      sql<number>`coalesce(sum(c.memory_mb) filter (where c.status in ('running','starting','pending')), 0)::int`.as(
        "active_memory_mb",
      ),
      sql<number>`coalesce(sum(c.disk_size_mb) filter (where c.status in ('running','starting','pending')), 0)::int`.as(
        "active_disk_mb",
      ),
      sql<number>`coalesce(sum(ceil(c.memory_mb / 2.0)) filter (where c.status = 'paused'), 0)::int`.as(
        "paused_half_memory_mb",
      ),
      sql<number>`coalesce(sum(c.disk_size_mb) filter (where c.status = 'paused'), 0)::int`.as("paused_disk_mb"),
    ])
    .leftJoin("capsules as c", "c.host_id", "h.id")
    .where("h.status", "=", "online")
    .where("h.address", "!=", "")
    .groupBy("h.id");
  q = byoc ? q.where("h.type", "=", "byoc").where("h.team_id", "=", teamId) : q.where("h.type", "=", "regular");
  return q.execute();
}
