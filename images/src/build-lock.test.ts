import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { BuildError } from "./build-error.ts";
import { acquireBuildLock } from "./build-lock.ts";

describe("acquireBuildLock", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const lockPath = async () => {
    const d = await mkdtemp(join(tmpdir(), "wrenn-lock-"));
    dirs.push(d);
    return join(d, "cache", "build.lock");
  };

  it("refuses a second build while the first holds the lock, and frees it on release", async () => {
    const path = await lockPath();
    const lock = await acquireBuildLock(path);
    // Another live process (our parent) claims it: a second build must not start.
    await rm(path);
    await writeFile(path, `${process.ppid}\n`);
    await assert.rejects(
      acquireBuildLock(path),
      (e: unknown) => e instanceof BuildError && e.message.includes(`pid ${process.ppid}`),
    );
    await lock.release();
    await assert.rejects(access(path));
    (await acquireBuildLock(path)).release();
  });

  it("takes over a lock left by a process that is gone", async () => {
    const path = await lockPath();
    const gone = spawnSync("true").pid;
    await (await acquireBuildLock(path, 1)).release();
    await writeFile(path, `${gone}\n`);
    const lock = await acquireBuildLock(path);
    await lock.release();
  });
});
