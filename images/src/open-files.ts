import { readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * The paths every process on the host holds open, read from /proc/<pid>/fd/* links. Processes we may not look
 * into (EACCES: another user's, when not root) and ones that exit mid-scan (ENOENT, ESRCH) are skipped, so run it
 * as root to see every QEMU. `procDir` is for tests.
 */
export async function openFilePaths(procDir = "/proc"): Promise<Set<string>> {
  const paths = new Set<string>();
  for (const pid of await readdir(procDir)) {
    if (!/^\d+$/.test(pid)) continue;
    const fdDir = join(procDir, pid, "fd");
    const fds = await readdir(fdDir).catch(skipRace);
    for (const fd of fds ?? []) {
      const target = await readlink(join(fdDir, fd)).catch(skipRace);
      if (target?.startsWith("/")) paths.add(target);
    }
  }
  return paths;
}

function skipRace(err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "EACCES" || code === "ESRCH" || code === "EPERM") return undefined;
  throw err;
}
