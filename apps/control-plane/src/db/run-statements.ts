import { type Kysely, sql } from "kysely";

/**
 * Runs a plain-SQL script one statement at a time. PGlite's extended protocol refuses several
 * commands in one query, so migrations are split on `;` at the end of a line (never inside
 * a statement in our files).
 */
export async function runStatements(db: Kysely<unknown>, script: string): Promise<void> {
  const statements = script
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
  for (const s of statements) await sql.raw(s).execute(db);
}
