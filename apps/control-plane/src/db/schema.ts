import type { ColumnType, Generated, Insertable, Selectable } from "kysely";
import type { MetricsTables } from "../metrics/tables.ts";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | undefined, string>;

/** Row shapes of every table (see migrations/). Ids are the public prefixed strings. */
export interface TeamsTable {
  id: string;
  name: string;
  slug: string;
  is_byoc: Generated<boolean>;
  created_at: Generated<Date>;
  deleted_at: NullableTimestamp;
}

export type UserStatus = "inactive" | "active" | "disabled" | "deleted";
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string | null;
  name: string;
  is_admin: Generated<boolean>;
  status: UserStatus;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: NullableTimestamp;
}

export type TeamRole = "owner" | "admin" | "member";
export interface UsersTeamsTable {
  team_id: string;
  user_id: string;
  is_default: Generated<boolean>;
  role: TeamRole;
  created_at: Generated<Date>;
}

export interface UserTokensTable {
  token_hash: string;
  user_id: string;
  kind: "activation" | "password_reset";
  expires_at: Timestamp;
}

/** A linked OAuth identity (`provider` + the provider's user id) of one user. */
export interface OAuthProvidersTable {
  provider: string;
  provider_id: string;
  user_id: string;
  email: string;
  created_at: Generated<Date>;
}

export interface ApiKeysTable {
  id: string;
  team_id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  created_by: string | null;
  created_at: Generated<Date>;
  last_used: NullableTimestamp;
}

export type HostStatus = "pending" | "online" | "offline" | "draining" | "unreachable";
export interface HostsTable {
  id: string;
  type: "regular" | "byoc";
  team_id: string | null;
  provider: Generated<string>;
  availability_zone: Generated<string>;
  arch: Generated<string>;
  cpu_cores: Generated<number>;
  memory_mb: Generated<number>;
  disk_gb: Generated<number>;
  address: Generated<string>;
  status: HostStatus;
  last_heartbeat_at: NullableTimestamp;
  metadata: Json<Record<string, string>>;
  agent_key: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface HostTokensTable {
  id: string;
  host_id: string;
  token_hash: string;
  created_by: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface HostTagsTable {
  host_id: string;
  tag: string;
}

export interface HostRefreshTokensTable {
  id: string;
  host_id: string;
  token_hash: string;
  expires_at: Timestamp;
  created_at: Generated<Date>;
  revoked_at: NullableTimestamp;
}

export type CapsuleStatus = "pending" | "starting" | "running" | "paused" | "stopped" | "missing" | "error";
export interface CapsulesTable {
  id: string;
  team_id: string;
  host_id: string | null;
  template: string;
  status: CapsuleStatus;
  status_reason: Generated<string>;
  vcpus: number;
  memory_mb: number;
  timeout_sec: number;
  disk_size_mb: number;
  guest_ip: Generated<string>;
  host_ip: Generated<string>;
  created_at: Generated<Date>;
  started_at: NullableTimestamp;
  last_active_at: NullableTimestamp;
  last_updated: Generated<Date>;
  metadata: Json<Record<string, string>>;
  /** The pause, resume or snapshot in progress (`op:token`), so only one runs at a time; null when idle. */
  lifecycle_op: ColumnType<string | null, string | null | undefined, string | null>;
  /** When an abandoned lease (its control plane died) may be taken over. */
  lifecycle_op_until: NullableTimestamp;
}

export interface AuditLogsTable {
  id: string;
  team_id: string;
  actor_type: "user" | "api_key" | "system";
  actor_id: string | null;
  actor_name: string | null;
  resource_type: string;
  resource_id: string | null;
  action: string;
  scope: "team" | "admin";
  status: "success" | "info" | "warning" | "error";
  metadata: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
}

export type TemplateType = "base" | "snapshot";
export interface TemplatesTable {
  id: string;
  name: string;
  type: TemplateType;
  team_id: string;
  host_id: string | null;
  source_capsule_id: string | null;
  vcpus: Generated<number>;
  memory_mb: Generated<number>;
  size_bytes: ColumnType<number, number | undefined, number>;
  default_user: Generated<string>;
  default_env: Json<Record<string, string>>;
  metadata: Json<Record<string, string>>;
  created_at: Generated<Date>;
}

/** A notification channel (reference §2.1 `channels`); every `config` value is AES-256-GCM ciphertext. */
export interface ChannelsTable {
  id: string;
  team_id: string;
  name: string;
  provider: string;
  config: Json<Record<string, string>>;
  event_types: string[];
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** The channel dispatcher's position in `audit_logs` (one row, id 1). */
export interface ChannelDispatchCursorTable {
  id: number;
  after_created_at: Timestamp;
  after_id: string;
}

/** One step's record in a build's `logs` (reference §9 "Progress"). */
export interface BuildLogEntry {
  step: number;
  phase: string;
  cmd: string;
  stdout: string;
  stderr: string;
  exit: number;
  ok: boolean;
  elapsed_ms: number;
}

export type BuildStatus = "pending" | "running" | "success" | "failed" | "cancelled";
/** A template build, queued and run by the build workers (reference §2.1 `template_builds`). */
export interface TemplateBuildsTable {
  id: string;
  name: string;
  base_template: string;
  recipe: Json<string[]>;
  healthcheck: string;
  vcpus: number;
  memory_mb: number;
  status: BuildStatus;
  current_step: Generated<number>;
  total_steps: number;
  logs: Json<BuildLogEntry[]>;
  error: string | null;
  sandbox_id: string | null;
  host_id: string | null;
  created_at: Generated<Date>;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  template_id: string | null;
  team_id: Generated<string>;
  skip_pre_post: boolean;
  default_user: string | null;
  default_env: ColumnType<Record<string, string> | null, string | null | undefined, string | null>;
  metadata: Json<Record<string, string>>;
  created_by: string | null;
  has_archive: boolean;
  /** Until when the running build's worker is known alive; past it, any control plane fails the build. */
  lease_until: NullableTimestamp;
}

/** An uploaded build archive, kept until its build ends. */
export interface TemplateBuildArchivesTable {
  build_id: string;
  content: Uint8Array;
}

/** The database as Kysely sees it. */
export interface Database extends MetricsTables {
  teams: TeamsTable;
  users: UsersTable;
  users_teams: UsersTeamsTable;
  user_tokens: UserTokensTable;
  team_api_keys: ApiKeysTable;
  hosts: HostsTable;
  host_tokens: HostTokensTable;
  host_tags: HostTagsTable;
  host_refresh_tokens: HostRefreshTokensTable;
  capsules: CapsulesTable;
  audit_logs: AuditLogsTable;
  templates: TemplatesTable;
  template_builds: TemplateBuildsTable;
  template_build_archives: TemplateBuildArchivesTable;
  oauth_providers: OAuthProvidersTable;
  channels: ChannelsTable;
  channel_dispatch_cursor: ChannelDispatchCursorTable;
}

export type Team = Selectable<TeamsTable>;
export type User = Selectable<UsersTable>;
export type Host = Selectable<HostsTable>;
export type Capsule = Selectable<CapsulesTable>;
export type NewCapsule = Insertable<CapsulesTable>;
export type Template = Selectable<TemplatesTable>;
