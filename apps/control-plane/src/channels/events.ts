import type { AuditLogsTable } from "../db/schema.ts";

/** Every event type a channel can subscribe to (reference §10). */
export const EVENT_TYPES = [
  "capsule.created",
  "capsule.running",
  "capsule.paused",
  "capsule.destroyed",
  "template.snapshot.created",
  "template.snapshot.deleted",
  "host.up",
  "host.down",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The payload delivered to channels (reference §10), JSON-encoded as is for webhooks. */
export interface ChannelEvent {
  event: string;
  /** RFC3339 UTC, whole seconds. */
  timestamp: string;
  team_id: string;
  actor: { type: "user" | "api_key" | "system"; id?: string; name?: string };
  resource: { id: string; type: string };
}

/** The audit row fields an event is made from. */
export type AuditEventSource = Pick<
  AuditLogsTable,
  "team_id" | "actor_type" | "actor_id" | "actor_name" | "resource_type" | "resource_id" | "action" | "scope"
> & { created_at: Date };

/**
 * Which audit actions are channel events. Templates made by `POST /v1/snapshots` are audited as `template`
 * (the reference's table says `snapshot`; both are read). Admin-scope rows (platform template deletes) are not events.
 */
const EVENT_OF: Record<string, Record<string, EventType>> = {
  sandbox: {
    create: "capsule.created",
    resume: "capsule.running",
    pause: "capsule.paused",
    destroy: "capsule.destroyed",
  },
  snapshot: { create: "template.snapshot.created", delete: "template.snapshot.deleted" },
  template: { create: "template.snapshot.created", delete: "template.snapshot.deleted" },
  host: { marked_up: "host.up", marked_down: "host.down" },
};

/** The event an audit row stands for, or undefined when it is not one channels hear about. */
export function eventFromAuditRow(row: AuditEventSource): ChannelEvent | undefined {
  if (row.scope !== "team" || !row.team_id) return undefined;
  const event = EVENT_OF[row.resource_type]?.[row.action];
  if (!event) return undefined;
  const actor: ChannelEvent["actor"] = { type: row.actor_type };
  if (row.actor_type !== "system") {
    if (row.actor_id) actor.id = row.actor_id;
    if (row.actor_name) actor.name = row.actor_name;
  }
  return {
    event,
    timestamp: rfc3339Seconds(row.created_at),
    team_id: row.team_id,
    actor,
    resource: { id: row.resource_id ?? "", type: row.resource_type },
  };
}

/** `2026-01-02T03:04:05Z`, the reference's time.RFC3339 in UTC. */
export function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
