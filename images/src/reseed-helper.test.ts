import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BuildError } from "./build-error.ts";
import { compileReseedHelper, type ReseedHelper } from "./reseed-helper.ts";
import { runCommand } from "./run-command.ts";

/** Runs `wrenn-reseed --serve` with `input` on stdin; resolves with its exit status and answer lines. */
function serve(path: string, input: string): Promise<{ status: number | null; answers: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ["--serve"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, answers: out.split("\n").slice(0, -1) }));
    child.stdin.end(input);
  });
}

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

  describe("--serve", () => {
    it("answers every line in order, errors included, and exits 0 on EOF", async () => {
      const lines = [
        "seed",
        "seed ",
        "seed 0g",
        "seed 123",
        `seed ${"ab".repeat(513)}`,
        "reseed 00",
        "",
        "clock abc",
        "clock -5",
        "clock 0",
        "clock 12.5",
        "hostname ",
        `hostname ${"h".repeat(65)}`,
        "x".repeat(5000),
        "seed 0\u00001",
      ];
      const { status, answers } = await serve(helper.path, `${lines.join("\n")}\n`);
      assert.equal(status, 0);
      assert.deepEqual(answers, [
        "error unknown command",
        "error seed: no bytes",
        "error seed: not hex",
        "error seed: odd number of hex digits",
        "error seed: more than 512 bytes",
        "error unknown command",
        "error unknown command",
        "error clock: want positive unix milliseconds",
        "error clock: want positive unix milliseconds",
        "error clock: want positive unix milliseconds",
        "error clock: want positive unix milliseconds",
        "error hostname: want 1..64 bytes",
        "error hostname: want 1..64 bytes",
        "error line longer than 2048 bytes",
        "error NUL byte in command",
      ]);
    });

    it("answers a last line without a newline, then exits 0", async () => {
      assert.deepEqual(await serve(helper.path, "nope"), { status: 0, answers: ["error unknown command"] });
    });

    it("exits 0 at once on an empty stdin", async () => {
      assert.deepEqual(await serve(helper.path, ""), { status: 0, answers: [] });
    });

    it("reseeds for valid hex, 1 and 512 bytes, between errors, when run as root", {
      skip: process.getuid?.() !== 0 && "needs root (RNDADDENTROPY)",
    }, async () => {
      const input = ["seed 07", "bogus", `seed ${"7f".repeat(512)}`, "seed ABCDEF", ""].join("\n");
      assert.deepEqual(await serve(helper.path, input), {
        status: 0,
        answers: ["ok", "error unknown command", "ok", "ok"],
      });
    });

    it("answers a seed with the failing ioctl when not root", {
      skip: process.getuid?.() === 0 && "root may always reseed",
    }, async () => {
      const { answers } = await serve(helper.path, "seed 07\n");
      assert.match(answers[0] ?? "", /^error seed: RNDADDENTROPY: /);
    });
  });

  it("refuses arguments other than --serve with a usage line and status 1", async () => {
    await assert.rejects(
      runCommand(helper.path, ["--bogus"]),
      (e: unknown) => e instanceof BuildError && /status 1:\nusage: wrenn-reseed \[--serve\]/.test(e.message),
    );
  });
});
