import { type Kysely, sql } from "kysely";
import { runStatements } from "../run-statements.ts";

/**
 * Templates (reference §2.1 `templates`): the platform's base images, seeded here, and the team templates made from
 * capsules by `POST /v1/snapshots`. A team template lives on one host (`host_id`), so capsules made from it are
 * scheduled there. Plus a lease on capsules (`lifecycle_op`, `lifecycle_op_until`): one pause, resume or snapshot
 * at a time per capsule across every control plane. Plain SQL, valid on PostgreSQL 15+.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
create table templates (
  id text primary key,
  name text not null,
  type text not null check (type in ('base','snapshot')),
  team_id text not null references teams(id),
  host_id text references hosts(id) on delete set null,
  source_capsule_id text,
  vcpus integer not null default 1,
  memory_mb integer not null default 512,
  size_bytes bigint not null default 0,
  default_user text not null default 'root',
  default_env jsonb not null default '{}',
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  unique (team_id, name)
);
create index templates_team_id_idx on templates(team_id);
alter table capsules add column lifecycle_op text;
alter table capsules add column lifecycle_op_until timestamptz;
insert into templates (id, name, type, team_id) values
  ('tpl-0000000000000000000000001', 'minimal', 'base', 'team-0000000000000000000000000'),
  ('tpl-0000000000000000000000002', 'python', 'base', 'team-0000000000000000000000000'),
  ('tpl-0000000000000000000000003', 'node', 'base', 'team-0000000000000000000000000');
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("drop table templates").execute(db);
  await sql.raw("alter table capsules drop column lifecycle_op, drop column lifecycle_op_until").execute(db);
}
