import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { hasExited, isAlive, killGroup, processState } from "./proc.ts";

/** Main thread exits first (pthread_exit), a second thread lives on for a while: like a killed QEMU tearing down. */
const LINGERING_THREAD_C = `
#include <pthread.h>
#include <unistd.h>
static void *linger(void *arg) { (void)arg; usleep(1500000); return 0; }
int main(void) { pthread_t t; pthread_create(&t, 0, linger, 0); pthread_exit(0); }
`;

describe("process exit detection", () => {
  let dir: string;
  let bin: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrenn-proc-"));
    await writeFile(join(dir, "linger.c"), LINGERING_THREAD_C);
    bin = join(dir, "linger");
    await promisify(execFile)("gcc", ["-O2", "-pthread", "-o", bin, join(dir, "linger.c")]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("does not call a process gone while its other threads still run behind a zombie main thread", async () => {
    const child = spawn(bin, [], { stdio: "ignore" });
    const pid = child.pid as number;
    const exited = new Promise((r) => child.once("exit", r));
    const deadline = Date.now() + 1000;
    while (processState(pid) !== "Z" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(processState(pid), "Z", "the main thread turned zombie");
    assert.equal(isAlive(pid), false, "isAlive only looks at the main thread");
    assert.equal(hasExited(pid), false, "a thread still holds the process's files");
    await exited;
    assert.equal(hasExited(pid), true);
  });

  it("killGroup waits for every thread", async () => {
    const child = spawn(bin, [], { stdio: "ignore", detached: true });
    const pid = child.pid as number;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await killGroup(pid, 5000), true);
    assert.equal(hasExited(pid), true);
  });
});
