import { type Kysely, sql } from "kysely";
import { runStatements } from "../run-statements.ts";

/** Accounts, teams, API keys, hosts, capsules and the audit log. Plain SQL, valid on PostgreSQL 15+. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
create table teams (
  id text primary key,
  name text not null,
  slug text not null unique,
  is_byoc boolean not null default false,
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
insert into teams (id, name, slug) values ('team-0000000000000000000000000', 'Platform', 'platform');

create table users (
  id text primary key,
  email text not null unique,
  password_hash text,
  name text not null,
  is_admin boolean not null default false,
  status text not null default 'inactive' check (status in ('inactive','active','disabled','deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);

create table users_teams (
  team_id text not null references teams(id) on delete cascade,
  user_id text not null references users(id) on delete cascade,
  is_default boolean not null default false,
  role text not null default 'member' check (role in ('owner','admin','member')),
  created_at timestamptz not null default now(),
  primary key (team_id, user_id)
);
create index users_teams_user_id_idx on users_teams(user_id);

-- One-time activation and password-reset tokens (the reference keeps these in Redis), stored as SHA-256.
create table user_tokens (
  token_hash text primary key,
  user_id text not null references users(id) on delete cascade,
  kind text not null check (kind in ('activation','password_reset')),
  expires_at timestamptz not null
);

create table team_api_keys (
  id text primary key,
  team_id text not null references teams(id) on delete cascade,
  name text not null,
  key_hash text not null unique,
  key_prefix text not null,
  created_by text references users(id) on delete set null,
  created_at timestamptz not null default now(),
  last_used timestamptz
);
create index team_api_keys_team_id_idx on team_api_keys(team_id);

create table hosts (
  id text primary key,
  type text not null check (type in ('regular','byoc')),
  team_id text references teams(id),
  provider text not null default '',
  availability_zone text not null default '',
  arch text not null default '',
  cpu_cores integer not null default 0,
  memory_mb integer not null default 0,
  disk_gb integer not null default 0,
  address text not null default '',
  status text not null default 'pending' check (status in ('pending','online','offline','draining','unreachable')),
  last_heartbeat_at timestamptz,
  metadata jsonb not null default '{}',
  agent_key text,
  created_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index hosts_type_idx on hosts(type);
create index hosts_team_id_idx on hosts(team_id);
create index hosts_status_idx on hosts(status);

-- Registration tokens: the secret is stored hashed and consumed atomically (used_at), one hour of validity.
create table host_tokens (
  id text primary key,
  host_id text not null references hosts(id) on delete cascade,
  token_hash text not null unique,
  created_by text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

create table host_tags (
  host_id text not null references hosts(id) on delete cascade,
  tag text not null,
  primary key (host_id, tag)
);
create index host_tags_tag_idx on host_tags(tag);

create table host_refresh_tokens (
  id text primary key,
  host_id text not null references hosts(id) on delete cascade,
  token_hash text not null unique,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);

create table capsules (
  id text primary key,
  team_id text not null references teams(id),
  host_id text references hosts(id) on delete set null,
  template text not null,
  status text not null check (status in ('pending','starting','running','paused','stopped','missing','error')),
  status_reason text not null default '',
  vcpus integer not null,
  memory_mb integer not null,
  timeout_sec integer not null default 0,
  disk_size_mb integer not null default 5120,
  guest_ip text not null default '',
  host_ip text not null default '',
  created_at timestamptz not null default now(),
  started_at timestamptz,
  last_active_at timestamptz,
  last_updated timestamptz not null default now(),
  metadata jsonb not null default '{}'
);
create index capsules_status_idx on capsules(status);
create index capsules_host_status_idx on capsules(host_id, status);
create index capsules_team_id_idx on capsules(team_id);

create table audit_logs (
  id text primary key,
  team_id text not null,
  actor_type text not null,
  actor_id text,
  actor_name text,
  resource_type text not null,
  resource_id text,
  action text not null,
  scope text not null default 'team',
  status text not null default 'success',
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index audit_logs_team_created_idx on audit_logs(team_id, created_at desc, id desc);
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      "drop table audit_logs, capsules, host_refresh_tokens, host_tags, host_tokens, hosts, team_api_keys, user_tokens, users_teams, users, teams",
    )
    .execute(db);
}
