import type { Kysely } from "kysely";
import type { Database, Template, TemplateType } from "../db/schema.ts";
import { PLATFORM_TEAM_ID } from "../ids.ts";

/** Base images every host carries; their names are reserved (409 `name_reserved`) and they cannot be deleted. */
export const PLATFORM_TEMPLATES: readonly string[] = ["minimal", "python", "node"];

/** A template as the API shows it (reference §1.2 `/v1/snapshots`). */
export interface TemplateView {
  name: string;
  type: TemplateType;
  vcpus: number;
  memory_mb: number;
  size_bytes: number;
  created_at: string;
  platform: boolean;
  metadata: Record<string, string>;
}

/** Shapes a template row for the API. */
export function templateView(t: Template): TemplateView {
  return {
    name: t.name,
    type: t.type,
    vcpus: t.vcpus,
    memory_mb: t.memory_mb,
    size_bytes: Number(t.size_bytes),
    created_at: t.created_at.toISOString(),
    platform: t.team_id === PLATFORM_TEAM_ID,
    metadata: t.metadata ?? {},
  };
}

/** True when `name` belongs to the platform (a seeded base image or a platform row in the table). */
export async function isPlatformName(db: Kysely<Database>, name: string): Promise<boolean> {
  if (PLATFORM_TEMPLATES.includes(name)) return true;
  const row = await db
    .selectFrom("templates")
    .select("id")
    .where("team_id", "=", PLATFORM_TEAM_ID)
    .where("name", "=", name)
    .executeTakeFirst();
  return row !== undefined;
}

/** The team's own template of that name (not platform ones). */
export async function teamTemplate(db: Kysely<Database>, teamId: string, name: string): Promise<Template | undefined> {
  return db
    .selectFrom("templates")
    .selectAll()
    .where("team_id", "=", teamId)
    .where("name", "=", name)
    .executeTakeFirst();
}

/** What a capsule create may start from: the team's own template, else a platform one; undefined when neither. */
export async function resolveTemplate(
  db: Kysely<Database>,
  teamId: string,
  name: string,
): Promise<Template | undefined> {
  const rows = await db
    .selectFrom("templates")
    .selectAll()
    .where("name", "=", name)
    .where("team_id", "in", [teamId, PLATFORM_TEAM_ID])
    .execute();
  return rows.find((r) => r.team_id === teamId) ?? rows.find((r) => r.team_id === PLATFORM_TEAM_ID);
}

/** Templates a team sees: platform ones first, then its own newest first; optionally one type only. */
export async function listTemplates(db: Kysely<Database>, teamId: string, type?: TemplateType): Promise<Template[]> {
  let q = db.selectFrom("templates").selectAll().where("team_id", "in", [teamId, PLATFORM_TEAM_ID]);
  if (type) q = q.where("type", "=", type);
  const rows = await q.orderBy("created_at", "desc").orderBy("name").execute();
  const platform = rows.filter((r) => r.team_id === PLATFORM_TEAM_ID).sort((a, b) => a.name.localeCompare(b.name));
  return [...platform, ...rows.filter((r) => r.team_id !== PLATFORM_TEAM_ID)];
}
