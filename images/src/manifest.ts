import { readFile } from "node:fs/promises";

/** images/<template>/manifest.json, the contract with the agent (docs/architecture.md). */
export interface ImageManifest {
  name: string;
  /** SHA-256 of everything the image was built from; a different value means "rebuild". */
  recipe_hash: string;
  /** The kernel release (kernels/release) the image was built alongside. */
  kernel_release: string;
  envd_sha256: string;
  /** Apparent size of rootfs.ext4 in bytes (the disk size the guest sees). */
  size_bytes: number;
  /** ISO 8601 UTC. */
  built_at: string;
}

/** Reads and parses a JSON file; `undefined` when it is missing or not valid JSON (treated as "not built"). */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Renders a manifest with the contract's fields, in the contract's order. */
export function renderManifest(m: ImageManifest): string {
  const ordered: ImageManifest = {
    name: m.name,
    recipe_hash: m.recipe_hash,
    kernel_release: m.kernel_release,
    envd_sha256: m.envd_sha256,
    size_bytes: m.size_bytes,
    built_at: m.built_at,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
