import type { Host } from "../db/schema.ts";

/** A host as the API shows it (reference §1.2 Host). The agent key is never shown here. */
export interface HostView {
  id: string;
  type: "regular" | "byoc";
  team_id: string | null;
  team_name: string | null;
  provider: string;
  availability_zone: string;
  arch: string;
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  address: string;
  status: string;
  last_heartbeat_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** Shapes a host row (plus the joined team name) for the API. */
export function hostView(h: Host & { team_name?: string | null }): HostView {
  return {
    id: h.id,
    type: h.type,
    team_id: h.team_id,
    team_name: h.team_name ?? null,
    provider: h.provider,
    availability_zone: h.availability_zone,
    arch: h.arch,
    cpu_cores: h.cpu_cores,
    memory_mb: h.memory_mb,
    disk_gb: h.disk_gb,
    address: h.address,
    status: h.status,
    last_heartbeat_at: h.last_heartbeat_at?.toISOString() ?? null,
    created_by: h.created_by,
    created_at: h.created_at.toISOString(),
    updated_at: h.updated_at.toISOString(),
  };
}
