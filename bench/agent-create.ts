/**
 * Benchmark of wrenn-agent's VM runtime (prints figures; not a test). Runs the agent's capsule manager in-process
 * against real QEMU under the configured accelerator:
 *   - cold boot of the `minimal` warm template (boot to envd answering, and the whole build),
 *   - N creates from the warm template to envd answering (p50/p95), pool ready before each create,
 *   - the same without waiting for the pool (back-to-back creates), and the pool refill rate,
 *   - host PSS and idle CPU per idle capsule.
 * Usage: node --import tsx bench/agent-create.ts [--creates 20] [--idle 10]   (WRENN_IMAGES_ROOT, default /var/lib/wrenn)
 */
import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { execInGuest } from "../apps/host-agent/src/envd-client/exec.ts";
import { readCpuMs, readMemory } from "../apps/host-agent/src/vmm/qemu/proc.ts";
import { startBenchAgent } from "./bench-agent.ts";
import { printLatencies } from "./percentiles.ts";

const { values } = parseArgs({ options: { creates: { type: "string" }, idle: { type: "string" } } });
const CREATES = Number(values.creates ?? 20);
const IDLE = Number(values.idle ?? 10);

const line = (label: string, xs: number[]) => printLatencies(label, xs, 44, 0);

const { root, version, templates, manager } = await startBenchAgent("wrenn-bench-", {
  poolSize: 2,
  restoreTimeoutMs: 30_000,
});

let n = 0;
const create = () =>
  manager.create({
    capsuleId: `cl-bench-${n++}`,
    teamId: "bench",
    template: "minimal",
    vcpus: 1,
    memoryMb: 256,
    timeoutSec: 0,
    diskSizeMb: 0,
    defaultUser: "",
    defaultEnv: {},
  });

try {
  console.log(`wrenn-agent benchmark: ${version}, accelerator tcg, ${CREATES} creates, ${IDLE} idle capsules`);
  await manager.start();
  const t0 = Date.now();
  await manager.prewarm("minimal");
  const meta = templates.peek({ template: "minimal", vcpus: 1, memoryMb: 256 })?.meta;
  console.log(
    `cold boot to envd answering                   ${meta?.bootMs} ms (template build incl. warm-up + save ${Date.now() - t0} ms)`,
  );

  const fromPool: number[] = [];
  const firstExec: number[] = [];
  for (let i = 0; i < CREATES; i++) {
    await manager.poolsIdle();
    const s = performance.now();
    const v = await create();
    fromPool.push(performance.now() - s);
    const c = manager.get(v.capsuleId);
    const e = performance.now();
    await execInGuest(c.envd, "true", { timeoutMs: 30_000 });
    firstExec.push(performance.now() - e);
    await manager.destroy(v.capsuleId);
  }
  line("create (pool ready) → capsule handed out", fromPool);
  line("first command after create (`true`)", firstExec);

  await manager.poolsIdle();
  const burst: number[] = [];
  const burstIds: string[] = [];
  for (let i = 0; i < Math.min(6, CREATES); i++) {
    const s = performance.now();
    burstIds.push((await create()).capsuleId);
    burst.push(performance.now() - s);
  }
  line("back-to-back creates (pool drains)", burst);
  for (const id of burstIds) await manager.destroy(id);
  await manager.poolsIdle();
  const stats = Object.values(manager.poolStats())[0];
  if (stats) {
    console.log(
      `pool refill: ${stats.avgMakeMs} ms per warmed clone → ${(60_000 / stats.avgMakeMs).toFixed(0)} clones/min (one at a time)`,
    );
  }

  // Idle cost: IDLE capsules, settle, then PSS and CPU over 10 s.
  const idle = [];
  for (let i = 0; i < IDLE; i++) idle.push(manager.get((await create()).capsuleId));
  await manager.poolsIdle();
  await new Promise((r) => setTimeout(r, 5000));
  const before = await Promise.all(idle.map((c) => readCpuMs(c.vm.pid)));
  const windowMs = 10_000;
  await new Promise((r) => setTimeout(r, windowMs));
  const afterCpu = await Promise.all(idle.map((c) => readCpuMs(c.vm.pid)));
  const mem = await Promise.all(idle.map((c) => readMemory(c.vm.pid)));
  const cpuPct = afterCpu.map((a, i) => ((a - (before[i] ?? 0)) / windowMs) * 100);
  const pssMiB = mem.map((m) => m.pssBytes / 1024 / 1024);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`idle capsules: ${IDLE} (256 MiB each) + ${stats ? 2 : 0} pooled clones`);
  console.log(
    `host PSS per idle capsule                     avg ${avg(pssMiB).toFixed(1)} MiB  max ${Math.max(...pssMiB).toFixed(1)} MiB`,
  );
  console.log(
    `idle CPU per capsule                          avg ${avg(cpuPct).toFixed(2)} % of a core  max ${Math.max(...cpuPct).toFixed(2)} %`,
  );
  const { readFile } = await import("node:fs/promises");
  const rollup = await readFile(`/proc/${idle[0]?.vm.pid}/smaps_rollup`, "utf8");
  console.log(
    `one idle capsule's smaps_rollup: ${rollup
      .split("\n")
      .filter((l) => /^(Pss|Rss)/.test(l))
      .map((l) => l.replace(/\s+/g, " "))
      .join(", ")}`,
  );
  for (const c of idle) await manager.destroy(c.id);
} finally {
  await manager.shutdown({ destroyAll: true });
  await rm(root, { recursive: true, force: true });
}
