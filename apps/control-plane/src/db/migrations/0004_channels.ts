import { type Kysely, sql } from "kysely";
import { runStatements } from "../run-statements.ts";

/**
 * Notification channels (reference §2.1 `channels`, §10) and the dispatcher's cursor into `audit_logs`, which is
 * the event outbox: every capsule, snapshot and host event is already an audit row, so a channel delivery is a
 * read of the rows after the cursor. `config` holds each value AES-256-GCM encrypted. Plain SQL, PostgreSQL 15+.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
create table channels (
  id text primary key,
  team_id text not null references teams(id) on delete cascade,
  name text not null,
  provider text not null,
  config jsonb not null default '{}',
  event_types text[] not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (team_id, name)
);
create index channels_team_id_idx on channels(team_id);
create table channel_dispatch_cursor (
  id integer primary key check (id = 1),
  after_created_at timestamptz not null,
  after_id text not null
);
create index audit_logs_created_id_idx on audit_logs(created_at, id);
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("drop index audit_logs_created_id_idx").execute(db);
  await sql.raw("drop table channel_dispatch_cursor, channels").execute(db);
}
