import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Hashes a recipe: any JSON-like value, with object keys sorted so that the same recipe always gives
 * the same hash however it was spelled. Returns 64 hex digits; caches use the first 16 in file names.
 */
export function recipeHash(recipe: unknown): string {
  return createHash("sha256").update(canonicalJson(recipe)).digest("hex");
}

/** JSON with sorted object keys and no whitespace; `undefined` members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** SHA-256 of a file's bytes, streamed (envd is ~100 MB). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** SHA-256 over a folder: every regular file's relative path and contents, in sorted order. */
export async function dirSha256(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
  for (const rel of files) {
    hash.update(`${rel}\0`);
    hash.update(await readFile(join(dir, rel)));
    hash.update("\0");
  }
  return hash.digest("hex");
}
