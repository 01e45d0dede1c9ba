import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { BuildError } from "./build-error.ts";

/** A held build lock; {@link BuildLock.release} removes it. */
export interface BuildLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the image build lock: a file holding our pid, created exclusively. Two builds on one root
 * would fight over the same cache and outputs; a lock left by a build that died is taken over.
 */
export async function acquireBuildLock(path: string, pid = process.pid): Promise<BuildLock> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx");
      await fh.writeFile(`${pid}\n`);
      await fh.close();
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && isAlive(holder)) {
        throw new BuildError(
          "command_failed",
          `another image build (pid ${holder}) is running on this root`,
          `wait for it to finish, or remove ${path} if that process is not a build`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new BuildError("command_failed", `cannot take the build lock ${path}`, `remove ${path} and retry`);
}
