import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ManagedProcess } from "./managed-process.ts";
import { isOurProcess } from "./stack-control.ts";
import { StopWaiting, waitFor } from "./wait-for.ts";

const dir = mkdtempSync(join(tmpdir(), "wrenn-mp-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const start = (script: string) =>
  ManagedProcess.start({
    name: "test",
    command: process.execPath,
    args: ["-e", script, "wrenn-managed-process-test"],
    env: process.env,
    cwd: dir,
    logFile: join(dir, "logs", "test.log"),
    pidFile: join(dir, "run", "test.pid"),
  });

describe("ManagedProcess", () => {
  it("logs output, writes a pid file and stops with SIGTERM", async () => {
    const p = start("console.log('ready'); setInterval(() => {}, 1000)");
    try {
      assert.equal(readFileSync(join(dir, "run", "test.pid"), "utf8").trim(), String(p.pid));
      await waitFor("the log line", async () => (p.logTail().includes("ready") ? true : undefined), {
        timeoutMs: 20_000,
      });
      assert.ok(isOurProcess(p.pid, "wrenn-managed-process-test"));
      assert.ok(!isOurProcess(p.pid, "something-else"));
    } finally {
      await p.stop(10_000);
    }
    assert.equal(p.isRunning, false);
    assert.equal(existsSync(join(dir, "run", "test.pid")), false);
    assert.ok(!isOurProcess(p.pid, "wrenn-managed-process-test"));
  });

  it("escalates to SIGKILL when SIGTERM is ignored", async () => {
    const p = start("process.on('SIGTERM', () => {}); console.log('armed'); setInterval(() => {}, 1000)");
    await waitFor("the child to arm", async () => (p.logTail().includes("armed") ? true : undefined), {
      timeoutMs: 20_000,
    });
    await p.stop(500);
    assert.equal(p.isRunning, false);
  });

  it("reports the exit of a child that fails", async () => {
    const p = start("console.error('bad config'); process.exit(3)");
    assert.equal(await p.exited(), 3);
    assert.match(p.logTail(), /bad config/);
    await p.stop();
  });
});

describe("waitFor", () => {
  it("gives up at the deadline with the last error", async () => {
    await assert.rejects(
      waitFor(
        "never",
        async () => {
          throw new Error("still down");
        },
        { timeoutMs: 300, intervalMs: 50 },
      ),
      /timed out .* waiting for never: still down/,
    );
  });

  it("stops at once when the probe throws StopWaiting", async () => {
    await assert.rejects(
      waitFor(
        "a dead process",
        async () => {
          throw new StopWaiting("it exited");
        },
        { timeoutMs: 60_000 },
      ),
      // a timeout would say "timed out … waiting for a dead process: it exited"
      (e) => e instanceof Error && e.message === "it exited",
    );
  });
});
