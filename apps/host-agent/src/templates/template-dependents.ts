/**
 * Who still reads a warm template's disk: capsules created from it (running or paused) and team templates made from
 * such capsules. Their qcow2 overlays name templates/<key>/disk.qcow2 as backing file, so the template must not be
 * rebuilt in place (deleted and rewritten) while any of them exists.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostLayout } from "../storage/layout.ts";

async function templateKeyIn(path: string): Promise<string | undefined> {
  try {
    const r = JSON.parse(await readFile(path, "utf8")) as { templateKey?: string; status?: string };
    return r.status === "pooled" ? undefined : r.templateKey;
  } catch {
    return undefined;
  }
}

/** Folders (capsules, paused capsules, team templates) whose disk is layered on template `key`. */
export async function templateDependents(layout: HostLayout, key: string): Promise<string[]> {
  const out: string[] = [];
  const scan = async (dir: string, file: string) => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if ((await templateKeyIn(join(dir, name, file))) === key) out.push(join(dir, name));
    }
  };
  await scan(layout.sandboxesDir, "capsule.json");
  await scan(layout.snapshotsDir, "capsule.json");
  for (const team of await readdir(layout.teamTemplatesDir).catch(() => [] as string[])) {
    await scan(join(layout.teamTemplatesDir, team), "snapshot.json");
  }
  return out;
}
