/**
 * capsule.json: what the agent must remember about a capsule to re-adopt it after a restart. Written atomically
 * (temp file + rename), mode 0600 because it holds the capsule's envd access token.
 */
import { readFile, rename, writeFile } from "node:fs/promises";

/** Persisted state of one capsule (or of a pooled clone not handed out yet). */
export interface CapsuleRecord {
  readonly version: 1;
  readonly capsuleId: string;
  readonly teamId: string;
  readonly template: string;
  readonly templateKey: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  timeoutSec: number;
  readonly diskSizeMb: number;
  readonly defaultUser: string;
  status: "pooled" | "running" | "paused";
  statusReason: string;
  /** QEMU process and the folder it was started in (pooled clones are renamed at hand-out). */
  readonly pid: number;
  readonly spawnDir: string;
  readonly hostPort: number;
  /** Kernel command line of its template (clones must match it exactly). */
  readonly kernelArgs: string;
  readonly accessToken: string;
  readonly createdAtMs: number;
  lastActiveAtMs: number;
  readonly metadata: Record<string, string>;
  /**
   * File or folder backing guest RAM when it is not the base template's memory file: a team template's memory file,
   * a resumed capsule's own RAM image (sandboxes/<id>/memory), or, for a state in the earlier all-RAM stream form,
   * a folder (QEMU then uses an unlinked temp file in it).
   */
  readonly memoryFile?: string;
  /** "<team>/<name>" when created from a team template (it depends on that template's disk). */
  readonly teamTemplate?: string;
  /** When it was paused (paused records only). */
  readonly pausedAtMs?: number;
}

/** Writes the record atomically. */
export async function writeRecord(path: string, record: CapsuleRecord): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(record, null, 2), { mode: 0o600 });
  await rename(tmp, path);
}

/** Reads a record; undefined when absent or unreadable. */
export async function readRecord(path: string): Promise<CapsuleRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(path, "utf8")) as CapsuleRecord;
    return r.version === 1 && typeof r.pid === "number" ? r : undefined;
  } catch {
    return undefined;
  }
}
