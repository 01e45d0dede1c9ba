import { z } from "zod";

/** `{"error":{"code","message"}}`, the body of every failure. */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).describe("Error");

/** Standard failure responses attached to every route for the OpenAPI document. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  500: ErrorBody,
} as const;

/** Raw bytes answers (documented as a binary string). */
export const RawBytes = z.string().describe("raw bytes, application/octet-stream");

/** Free-form JSON answers. */
export const AnyObject = z.record(z.string(), z.unknown());

/** A path `{id}`. Unknown ids are 404, so any non-empty string is accepted here. */
export const IdParams = z.object({ id: z.string().min(1).max(200) });

/** Template and snapshot names (`validate.SafeName`). */
export const SafeName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, "must match ^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$");

export const AuthResponse = z
  .object({ token: z.string(), user_id: z.string(), team_id: z.string(), email: z.string(), name: z.string() })
  .describe("AuthResponse");

export const Capsule = z
  .object({
    id: z.string(),
    status: z.string().describe("pending, starting, running, paused, hibernated, stopped, missing or error"),
    status_reason: z
      .string()
      .describe("Why the capsule is in its status: user, timeout, host_lost, error: … (Wrenn addition)"),
    template: z.string(),
    vcpus: z.number().int(),
    memory_mb: z.number().int(),
    timeout_sec: z.number().int(),
    guest_ip: z.string().optional(),
    host_ip: z.string().optional(),
    created_at: z.string(),
    started_at: z.string().optional(),
    last_active_at: z.string().optional(),
    last_updated: z.string(),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .describe("Capsule");

export const Template = z
  .object({
    name: z.string(),
    type: z.enum(["base", "snapshot"]),
    vcpus: z.number().int(),
    memory_mb: z.number().int(),
    size_bytes: z.number().int(),
    created_at: z.string(),
    platform: z.boolean().describe("true for the platform's base images (minimal, python, node)"),
    metadata: z.record(z.string(), z.string()),
  })
  .describe("Template");

export const Host = z
  .object({
    id: z.string(),
    type: z.enum(["regular", "byoc"]),
    team_id: z.string().nullable(),
    team_name: z.string().nullable(),
    provider: z.string(),
    availability_zone: z.string(),
    arch: z.string(),
    cpu_cores: z.number().int(),
    memory_mb: z.number().int(),
    disk_gb: z.number().int(),
    address: z.string(),
    status: z.string(),
    last_heartbeat_at: z.string().nullable(),
    created_by: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .describe("Host");

export const HostCredentials = z
  .object({ host: Host, token: z.string(), refresh_token: z.string(), agent_key: z.string() })
  .describe("HostCredentials");

export const FileEntry = z
  .object({
    name: z.string(),
    path: z.string(),
    type: z.string(),
    size: z.number(),
    mode: z.number(),
    permissions: z.string(),
    owner: z.string(),
    group: z.string(),
    modified_at: z.number(),
    symlink_target: z.string().optional(),
  })
  .describe("FileEntry");

export const Member = z
  .object({ user_id: z.string(), name: z.string(), email: z.string(), role: z.string(), joined_at: z.string() })
  .describe("Member");

export const Team = z
  .object({ id: z.string(), name: z.string(), slug: z.string(), is_byoc: z.boolean(), created_at: z.string() })
  .describe("Team");

export const ApiKey = z
  .object({
    id: z.string(),
    team_id: z.string(),
    name: z.string(),
    key_prefix: z.string(),
    created_by: z.string().nullable(),
    created_at: z.string(),
    creator_email: z.string().nullable().optional(),
    last_used: z.string().nullable().optional(),
    key: z.string().optional().describe("The plaintext key; only in the create response"),
  })
  .describe("ApiKey");
