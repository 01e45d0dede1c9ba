import type { ChannelEvent } from "./events.ts";

const SUMMARY: Record<string, (id: string) => string> = {
  "capsule.created": (id) => `Capsule ${id} created`,
  "capsule.running": (id) => `Capsule ${id} is running`,
  "capsule.paused": (id) => `Capsule ${id} paused`,
  "capsule.destroyed": (id) => `Capsule ${id} destroyed`,
  "template.snapshot.created": (id) => `Template snapshot ${id} created`,
  "template.snapshot.deleted": (id) => `Template snapshot ${id} deleted`,
  "host.up": (id) => `Host ${id} is up`,
  "host.down": (id) => `Host ${id} is down`,
};

/**
 * The plain-text message chat providers get (reference §10): a summary line, a blank line, then the Event,
 * Resource, Actor, Team and Time lines.
 */
export function formatMessage(e: ChannelEvent): string {
  const summary = SUMMARY[e.event]?.(e.resource.id) ?? `${e.resource.type} ${e.resource.id}`;
  return [
    summary,
    "",
    `Event: ${e.event}`,
    `Resource: ${e.resource.type} ${e.resource.id}`,
    `Actor: ${formatActor(e.actor)}`,
    `Team: ${e.team_id}`,
    `Time: ${e.timestamp}`,
  ].join("\n");
}

function formatActor(a: ChannelEvent["actor"]): string {
  if (a.type === "system") return "system";
  const label = a.type === "api_key" ? `api_key ${a.name ?? a.id ?? ""}`.trim() : (a.name ?? a.id ?? "");
  return a.name && a.id ? `${label} (${a.id})` : label;
}
