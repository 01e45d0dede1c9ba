import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { EnvdHarness, runToEnd, waitFor } from "../testing/envd-harness.ts";
import { compileTestSpawner } from "../testing/spawner-binary.ts";

const fdCount = (pid: number | string) => readdirSync(`/proc/${pid}/fd`).length;
const sh = (script: string, tag?: string) => ({ process: { cmd: "/bin/sh", args: ["-c", script] }, tag });

describe("envd with wrenn-spawner", () => {
  let h: EnvdHarness;
  before(async () => {
    h = await EnvdHarness.start({ spawner: await compileTestSpawner() });
  });
  after(() => h.close());

  it("starts 200 processes without growing the spawner's or envd's fd tables", async () => {
    const spawner = h.envd.spawnerPid as number;
    const client = h.processClient("2");
    await runToEnd(client.start(sh("true")));
    const [spawnerBefore, envdBefore] = [fdCount(spawner), fdCount("self")];
    for (let batch = 0; batch < 4; batch++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => runToEnd(client.start({ ...sh(`echo ${i}`), stdin: i % 2 === 0 }))),
      );
      assert.deepEqual(
        results.map((r) => r.stdout),
        results.map((_, i) => `${i}\n`),
      );
    }
    assert.equal(h.envd.spawnerPid, spawner, "the same spawner served every start");
    assert.equal(fdCount(spawner), spawnerBefore);
    // envd's own table may hold a few sockets of the client; the 600 pipe fds must all be closed.
    assert.ok(fdCount("self") - envdBefore < 20, `envd fds ${envdBefore} -> ${fdCount("self")}`);
  });

  it("passes newlines in argv and env through unchanged", async () => {
    const r = await runToEnd(
      h.processClient().start({
        process: { cmd: "/bin/sh", args: ["-c", 'printf "%s|%s" "$1" "$X"', "sh", "a\nb"], envs: { X: "c\nd" } },
      }),
    );
    assert.equal(r.stdout, "a\nb|c\nd");
  });

  it("ends a process whose background child keeps the pipes open about a second after it exits", async () => {
    const spawner = h.envd.spawnerPid as number;
    const before = fdCount(spawner);
    const t0 = Date.now();
    const r = await runToEnd(h.processClient().start(sh("sleep 30 & echo bg=$!")));
    const bg = Number(/bg=(\d+)/.exec(r.stdout)?.[1]);
    try {
      assert.equal(r.end?.exitCode, 0);
      assert.ok(Date.now() - t0 < 5000);
      // envd told the spawner to forget it: the pipes the background child still holds are closed on its side.
      await waitFor("the spawner to let go of the pipes", () => (fdCount(spawner) === before ? true : undefined), 5000);
    } finally {
      process.kill(bg, "SIGKILL");
    }
  });

  it("ends and kills running processes at once when the spawner dies, restarts it once, then uses child_process", async () => {
    const client = h.processClient();
    const first = h.envd.spawnerPid as number;
    const it = client.start(sh("echo before; exec sleep 30", "orphaned"))[Symbol.asyncIterator]();
    const start = (await it.next()).value?.event?.event;
    assert.equal(start?.case, "start");
    const orphan = start.case === "start" ? start.value.pid : 0;
    try {
      const data = (await it.next()).value?.event?.event;
      assert.equal(data?.case === "data" && Buffer.from(data.value.output.value ?? []).toString(), "before\n");
      const t0 = Date.now();
      process.kill(first, "SIGKILL");
      // Its output went with the spawner: the stream ends now, not when the process does (30 s from now).
      const r = await runToEnd({ [Symbol.asyncIterator]: () => it });
      assert.ok(Date.now() - t0 < 5000, `ended after ${Date.now() - t0} ms`);
      assert.equal(r.stdout, "");
      assert.equal(r.end?.status, "unknown");
      assert.equal(r.end?.exited, false);
      // Nobody could serve or signal it any more: envd killed it (gone, or a zombie until init reaps it).
      await waitFor("the orphan killed", () => {
        try {
          return readFileSync(`/proc/${orphan}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ? true : undefined;
        } catch {
          return true;
        }
      });
    } finally {
      try {
        process.kill(orphan, "SIGKILL");
      } catch {}
    }

    const second = await waitFor("a restarted spawner", () => {
      const pid = h.envd.spawnerPid;
      return pid !== undefined && pid !== first ? pid : undefined;
    });
    assert.equal((await runToEnd(client.start(sh("echo again")))).stdout, "again\n");
    process.kill(second, "SIGKILL");
    await waitFor("the spawner gone for good", () => (h.envd.spawnerPid === undefined ? true : undefined));
    const fallback = await runToEnd(client.start(sh("echo fallback; exit 4")));
    assert.equal(fallback.stdout, "fallback\n");
    assert.equal(fallback.end?.exitCode, 4);
  });
});
