import { type Kysely, sql } from "kysely";
import { runStatements } from "../run-statements.ts";

/**
 * Template builds (reference §2.1 `template_builds`, §9 "Builds"). The queue lives in this table instead of Redis:
 * workers claim `pending` rows with `FOR UPDATE SKIP LOCKED`, and a running build holds a lease (`lease_until`) that
 * its worker renews, so a build left behind by a dead control plane is failed instead of running forever. Uploaded
 * archives wait in `template_build_archives` (any control plane may run the build) and are dropped once it ends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
create table template_builds (
  id text primary key,
  name text not null,
  base_template text not null default 'minimal',
  recipe jsonb not null default '[]',
  healthcheck text not null default '',
  vcpus integer not null default 1,
  memory_mb integer not null default 512,
  status text not null default 'pending' check (status in ('pending','running','success','failed','cancelled')),
  current_step integer not null default 0,
  total_steps integer not null default 0,
  logs jsonb not null default '[]',
  error text,
  sandbox_id text,
  host_id text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  template_id text,
  team_id text not null default 'team-0000000000000000000000000',
  skip_pre_post boolean not null default false,
  default_user text,
  default_env jsonb,
  metadata jsonb not null default '{}',
  created_by text,
  has_archive boolean not null default false,
  lease_until timestamptz
);
create index template_builds_queue_idx on template_builds(status, created_at);
create index template_builds_created_idx on template_builds(created_at desc);
create table template_build_archives (
  build_id text primary key references template_builds(id) on delete cascade,
  content bytea not null
);
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("drop table template_build_archives").execute(db);
  await sql.raw("drop table template_builds").execute(db);
}
