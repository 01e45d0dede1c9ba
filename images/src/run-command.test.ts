import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildError } from "./build-error.ts";
import { runCommand } from "./run-command.ts";

const isCode = (code: string) => (e: unknown) => e instanceof BuildError && e.code === code;

describe("runCommand", () => {
  it("returns stdout and feeds every line, including an unterminated last one", async () => {
    const lines: string[] = [];
    const r = await runCommand("sh", ["-c", "printf 'a\\nb\\n'; printf 'err\\n' >&2; printf c"], {
      onLine: (l, s) => lines.push(`${s}:${l}`),
    });
    assert.equal(r.stdout, "a\nb\nc");
    assert.equal(r.stderrTail, "err\n");
    assert.deepEqual(lines.sort(), ["stderr:err", "stdout:a", "stdout:b", "stdout:c"]);
  });

  it("pipes input to stdin", async () => {
    assert.equal((await runCommand("cat", [], { input: "seed" })).stdout, "seed");
  });

  it("rejects a failing command with command_failed, the end of stderr and the hint", async () => {
    await assert.rejects(
      runCommand("sh", ["-c", "echo boom >&2; exit 3"], { hint: "do X" }),
      (e: unknown) =>
        isCode("command_failed")(e) &&
        /status 3:\nboom/.test((e as Error).message) &&
        (e as BuildError).hint === "do X",
    );
  });

  it("reports a program that is not installed as missing_tool", async () => {
    await assert.rejects(
      runCommand("wrenn-no-such-tool", [], { hint: "apt-get install -y x" }),
      isCode("missing_tool"),
    );
  });

  it("kills a command that passes its deadline", async () => {
    const started = Date.now();
    await assert.rejects(runCommand("sleep", ["30"], { timeoutMs: 200 }), isCode("timeout"));
    assert.ok(Date.now() - started < 20_000);
  });

  it("kills a command when the signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(runCommand("sleep", ["30"], { signal: ac.signal }), isCode("aborted"));
  });
});
