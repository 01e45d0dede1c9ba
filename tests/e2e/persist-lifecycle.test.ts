/**
 * Persistent capsules end to end through the real agent and real QEMU microVMs: ten pause/resume cycles keep a
 * process's in-memory counter and every written file intact and the paused disk fsck-clean; auto-pause after
 * timeout_sec; an agent restart while paused; pause, resume, exec and destroy racing on one capsule.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ConnectError } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import type { AgentProcess } from "./agent-harness/agent-process.ts";
import { cleanupRoot, vmSkipReason, waitFor } from "./agent-harness/vm-host.ts";
import { assertGone, FIRST_CREATE_MS, OP_MS, sh, startAgent } from "./persist-harness.ts";

const run = promisify(execFile);
const skip = vmSkipReason();
const CYCLES = 10;
const { PAUSED, RUNNING } = hostagent.CapsuleStatus;

/** A process that counts in memory (run id + counter) and writes the pair to /root/counter every 50 ms. */
const COUNTER = [
  "import os, time, uuid",
  "run = uuid.uuid4().hex",
  "n = 0",
  "while True:",
  "    n += 1",
  "    with open('/root/counter.tmp', 'w') as f: f.write(f'{run} {n}')",
  "    os.replace('/root/counter.tmp', '/root/counter')",
  "    time.sleep(0.05)",
].join("\n");

describe("persistent capsules", { skip, timeout: 1_800_000 }, () => {
  let root: string;
  let agent: AgentProcess;

  before(async () => {
    ({ root, agent } = await startAgent());
  });
  after(async () => {
    await agent?.kill();
    if (root) await cleanupRoot(root);
  });

  const readCounter = async (id: string) => {
    const [runId, n] = (await sh(agent, id, "cat /root/counter")).split(" ");
    return { runId, n: Number(n) };
  };

  it(`keeps memory, processes and files across ${CYCLES} pause/resume cycles; the paused disk is fsck-clean`, async () => {
    const id = "cl-persist-cycles";
    await agent.client.createCapsule(
      { capsuleId: id, teamId: "team-p", template: "minimal" },
      { timeoutMs: FIRST_CREATE_MS },
    );
    const started = await agent.client.startBackground(
      { capsuleId: id, cmd: "python3", args: ["-c", COUNTER], tag: "counter" },
      { timeoutMs: OP_MS },
    );
    assert.ok(await waitFor(async () => existsSyncInGuest(agent, id, "/root/counter"), 60_000), "counter started");
    let last = await readCounter(id);
    const sums = new Map<string, string>();
    const hostIps = new Set<string>();
    for (let i = 0; i < CYCLES; i++) {
      const file = `/root/data-${i}`;
      const sum = await sh(agent, id, `head -c 262144 /dev/urandom > ${file} && sha256sum ${file}`);
      sums.set(file, sum.split(" ")[0] ?? "");
      const paused = await agent.client.pauseCapsule({ capsuleId: id, reason: "user" }, { timeoutMs: OP_MS });
      assert.equal(paused.capsule?.status, PAUSED);
      assert.equal(paused.capsule?.statusReason, "user");
      await assert.rejects(agent.client.exec({ capsuleId: id, cmd: "true" }), (e) => {
        assert.equal(ConnectError.from(e).code, 9, "exec on a paused capsule is FailedPrecondition");
        return true;
      });
      const resumed = await agent.client.resumeCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
      assert.equal(resumed.capsule?.status, RUNNING);
      hostIps.add(resumed.capsule?.hostIp ?? "");
      const now = await readCounter(id);
      assert.equal(now.runId, last.runId, `cycle ${i}: the same counting process (not restarted)`);
      assert.ok(now.n >= last.n, `cycle ${i}: the counter continued (${last.n} → ${now.n})`);
      last = now;
    }
    assert.ok(hostIps.size > 1, "resumes get new forwarded ports");
    const later = await waitForCounterAbove(agent, id, last.n, 60_000);
    assert.equal(later.runId, last.runId);
    const procs = await agent.client.listProcesses({ capsuleId: id }, { timeoutMs: OP_MS });
    assert.ok(
      procs.processes.some((p) => p.pid === started.pid && p.tag === "counter"),
      "the counter keeps its pid",
    );
    const check = await sh(agent, id, `sha256sum ${[...sums.keys()].join(" ")}`);
    for (const line of check.split("\n")) {
      const [sum, file] = line.split(/\s+/);
      assert.equal(sum, sums.get(file ?? ""), `${file} unchanged`);
    }

    await agent.client.pauseCapsule({ capsuleId: id, reason: "user" }, { timeoutMs: OP_MS });
    const disk = join(root, "snapshots", id, "disk.qcow2");
    const raw = join(root, `fsck-${id}.raw`);
    try {
      await run("qemu-img", ["convert", "-O", "raw", disk, raw], { timeout: 300_000 });
      const fsck = await run("e2fsck", ["-fn", raw], { timeout: 300_000 }).catch((e) => e);
      assert.equal(fsck.code ?? 0, 0, `e2fsck of the paused disk is clean: ${fsck.stdout ?? ""}${fsck.stderr ?? ""}`);
    } finally {
      await rm(raw, { force: true });
    }
    await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    await assertGone(root, id);
    const listed = await agent.client.listCapsules({});
    assert.equal(
      listed.capsules.some((c) => c.capsuleId === id),
      false,
    );
  });

  it("auto-pauses a capsule after timeout_sec without activity and reports it once", async () => {
    const id = "cl-persist-idle";
    await agent.client.createCapsule({ capsuleId: id, template: "minimal", timeoutSec: 3 }, { timeoutMs: OP_MS });
    await sh(agent, id, "echo idle > /root/idle");
    const seen: string[] = [];
    const paused = await waitFor(async () => {
      const l = await agent.client.listCapsules({});
      seen.push(...l.autoPausedCapsuleIds);
      const c = l.capsules.find((x) => x.capsuleId === id);
      return c?.status === PAUSED && seen.includes(id);
    }, 90_000);
    assert.ok(paused, "paused by the reaper and listed as auto-paused");
    const c = (await agent.client.listCapsules({})).capsules.find((x) => x.capsuleId === id);
    assert.equal(c?.statusReason, "timeout");
    await agent.client.resumeCapsule({ capsuleId: id, timeoutSec: 0 }, { timeoutMs: OP_MS });
    assert.equal(await sh(agent, id, "cat /root/idle"), "idle");
    await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    await assertGone(root, id);
  });

  it("keeps a paused capsule across an agent crash and resumes it afterwards", async () => {
    const id = "cl-persist-restart";
    await agent.client.createCapsule({ capsuleId: id, template: "minimal" }, { timeoutMs: OP_MS });
    await agent.client.startBackground({ capsuleId: id, cmd: "python3", args: ["-c", COUNTER] }, { timeoutMs: OP_MS });
    assert.ok(await waitFor(async () => existsSyncInGuest(agent, id, "/root/counter"), 60_000));
    const before = await readCounter(id);
    await agent.client.pauseCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    await agent.kill();
    ({ agent } = await startAgent(root));
    const listed = (await agent.client.listCapsules({})).capsules.find((c) => c.capsuleId === id);
    assert.equal(listed?.status, PAUSED, "the restarted agent lists it as paused");
    await agent.client.resumeCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    const after = await readCounter(id);
    assert.equal(after.runId, before.runId, "the same process");
    assert.ok(after.n >= before.n);
    await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
    await assertGone(root, id);
  });

  it("survives pause, resume, exec and destroy racing on one capsule without orphans", async () => {
    for (const round of [0, 1]) {
      const id = `cl-persist-race-${round}`;
      await agent.client.createCapsule({ capsuleId: id, template: "minimal" }, { timeoutMs: OP_MS });
      // Lifecycle calls that lose the race get NotFound or FailedPrecondition; an exec cut off by the pause may
      // fail any way, but must end.
      const lifecycle: Promise<unknown>[] = [
        agent.client.pauseCapsule({ capsuleId: id }, { timeoutMs: OP_MS }),
        agent.client.resumeCapsule({ capsuleId: id }, { timeoutMs: OP_MS }),
      ];
      const execs: Promise<unknown>[] = [
        agent.client.exec({ capsuleId: id, cmd: "echo x > /root/x" }, { timeoutMs: OP_MS }),
        agent.client.exec({ capsuleId: id, cmd: "true" }, { timeoutMs: OP_MS }),
      ];
      // Round 0 destroys while the others are queued; round 1 after they settled.
      if (round === 0) lifecycle.push(agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: OP_MS }));
      const [results] = await Promise.all([Promise.allSettled(lifecycle), Promise.allSettled(execs)]);
      for (const r of results) {
        if (r.status === "rejected") {
          const code = ConnectError.from(r.reason).code;
          assert.ok([5, 9].includes(code), `a losing racer gets NotFound or FailedPrecondition, not ${r.reason}`);
        }
      }
      if (round === 1) await agent.client.destroyCapsule({ capsuleId: id }, { timeoutMs: OP_MS });
      await assertGone(root, id);
      const listed = await agent.client.listCapsules({});
      assert.equal(
        listed.capsules.some((c) => c.capsuleId === id),
        false,
      );
    }
  });
});

async function existsSyncInGuest(agent: AgentProcess, id: string, path: string): Promise<boolean> {
  const r = await agent.client.exec({ capsuleId: id, cmd: `test -s ${path}` }, { timeoutMs: OP_MS });
  return r.exitCode === 0;
}

async function waitForCounterAbove(agent: AgentProcess, id: string, n: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [runId, v] = (await sh(agent, id, "cat /root/counter")).split(" ");
    if (Number(v) > n || Date.now() > deadline) {
      assert.ok(Number(v) > n, `the counter keeps counting after the last resume (${n} → ${v})`);
      return { runId, n: Number(v) };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
