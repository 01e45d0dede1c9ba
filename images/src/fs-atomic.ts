import { access, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Writes a file so that readers see either the old or the new contents, never a half-written one:
 * write a sibling temp file, then rename over the target. The agent may read kernels/ and images/
 * while a build runs.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Runs `fn` with a fresh scratch folder under `parent` (same filesystem as the outputs, so results
 * can be renamed into place) and removes the folder afterwards, whether `fn` succeeded or not.
 */
export async function withScratchDir<T>(parent: string, prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, `${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** A `.catch` for fs calls on paths that may vanish (or never existed): undefined for ENOENT, rethrows the rest. */
export function ignoreMissing(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  throw err;
}

/** True when every path exists (any file type). */
export async function allExist(paths: readonly string[]): Promise<boolean> {
  for (const p of paths) {
    if (
      !(await access(p).then(
        () => true,
        () => false,
      ))
    )
      return false;
  }
  return true;
}
