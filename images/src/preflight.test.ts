import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { BuildError } from "./build-error.ts";
import { missingTools, preflight } from "./preflight.ts";

describe("preflight", () => {
  let dir: string | undefined;
  after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it("tells a non-root user to rerun with sudo", async () => {
    await assert.rejects(
      preflight(1000),
      (e: unknown) => e instanceof BuildError && e.code === "not_root" && /sudo/.test(e.hint ?? ""),
    );
  });

  it("finds executables on PATH and reports the rest", async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-path-"));
    await writeFile(join(dir, "debootstrap"), "#!/bin/sh\n");
    await chmod(join(dir, "debootstrap"), 0o755);
    await writeFile(join(dir, "not-executable"), "");
    assert.deepEqual(await missingTools(["debootstrap", "not-executable", "wrenn-nope"], dir), [
      "not-executable",
      "wrenn-nope",
    ]);
  });
});
