import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BuildError } from "./build-error.ts";
import { compileReseedHelper, type ReseedHelper } from "./reseed-helper.ts";
import { runCommand } from "./run-command.ts";

describe("wrenn-reseed", () => {
  let dir: string;
  let helper: ReseedHelper;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-reseed-"));
    helper = await compileReseedHelper(join(dir, "bin"), join(dir, "scratch"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("compiles to a static binary named by the source hash, once", async () => {
    assert.match(helper.path, /wrenn-reseed-[0-9a-f]{16}$/);
    const { stdout } = await runCommand("file", ["-L", helper.path]).catch(() => ({
      stdout: "statically linked (file(1) missing)",
    }));
    assert.match(stdout, /statically linked/);
    const mtime = (await stat(helper.path)).mtimeMs;
    const again = await compileReseedHelper(join(dir, "bin"), join(dir, "scratch"));
    assert.equal(again.path, helper.path);
    assert.equal((await stat(again.path)).mtimeMs, mtime);
  });

  it("refuses an empty seed with exit status 1", async () => {
    await assert.rejects(
      runCommand(helper.path, [], { input: "" }),
      (e: unknown) => e instanceof BuildError && /status 1:\nwrenn-reseed: no seed bytes/.test(e.message),
    );
  });

  it("adds the seed and forces a CRNG reseed when run as root", {
    skip: process.getuid?.() !== 0 && "needs root (RNDADDENTROPY)",
  }, async () => {
    const r = await runCommand(helper.path, [], { input: Buffer.alloc(600, 7) });
    assert.equal(r.stderrTail, "");
  });

  it("fails with status 2 and says which ioctl when not allowed", {
    skip: process.getuid?.() === 0 && "root may always reseed",
  }, async () => {
    await assert.rejects(
      runCommand(helper.path, [], { input: "x" }),
      (e: unknown) => e instanceof BuildError && /status 2:\nwrenn-reseed: RNDADDENTROPY/.test(e.message),
    );
  });
});
