import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeCpioNewc } from "./cpio-newc.ts";
import { runCommand } from "./run-command.ts";

describe("writeCpioNewc", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("writes an archive cpio(1) lists with the right types, modes and owners", async () => {
    const d = await mkdtemp(join(tmpdir(), "wrenn-cpio-"));
    dirs.push(d);
    const archive = writeCpioNewc([
      { kind: "dir", path: "dev" },
      { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
      { kind: "file", path: "init", data: "#!/bin/sh\necho hi\n", mode: 0o755 },
      { kind: "symlink", path: "sh", target: "busybox" },
    ]);
    assert.equal(archive.length % 512, 0);
    await writeFile(join(d, "a.cpio"), archive);
    const { stdout } = await runCommand("sh", ["-c", 'cpio -itv --quiet < "$1"', "list", join(d, "a.cpio")]);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^drwxr-xr-x .* root +root .* dev$/);
    assert.match(lines[1]!, /^crw------- .* 5, +1 .* dev\/console$/);
    assert.match(lines[2]!, /^-rwxr-xr-x .* 18 .* init$/);
    assert.match(lines[3]!, /^lrwxrwxrwx .* sh -> busybox$/);
  });

  it("round-trips file contents of odd lengths (padding)", async () => {
    const d = await mkdtemp(join(tmpdir(), "wrenn-cpio-"));
    dirs.push(d);
    const payloads = ["a", "bb", "ccc", "dddd", "eeeee"];
    const archive = writeCpioNewc(payloads.map((p, i) => ({ kind: "file" as const, path: `f${i}`, data: p })));
    await writeFile(join(d, "a.cpio"), archive);
    await runCommand("sh", ["-c", 'cd "$1" && cpio -id --quiet < a.cpio', "extract", d]);
    for (const [i, p] of payloads.entries()) assert.equal(await readFile(join(d, `f${i}`), "utf8"), p);
  });
});
