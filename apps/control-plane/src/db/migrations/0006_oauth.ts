import { type Kysely, sql } from "kysely";
import { runStatements } from "../run-statements.ts";

/**
 * Linked OAuth identities (reference §2.1 `oauth_providers`): one row per provider account, keyed by the
 * provider's own user id so a GitHub account can belong to one Wrenn user only. Plain SQL, valid on PostgreSQL 15+.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
create table oauth_providers (
  provider text not null,
  provider_id text not null,
  user_id text not null references users(id) on delete cascade,
  email text not null default '',
  created_at timestamptz not null default now(),
  primary key (provider, provider_id)
);
create index oauth_providers_user_id_idx on oauth_providers(user_id);
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw("drop table oauth_providers").execute(db);
}
