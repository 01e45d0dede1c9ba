/**
 * Density benchmark of wrenn-agent (prints figures; not a test): how many idle capsules one host holds, and what each
 * costs. Runs the capsule manager in-process against real QEMU (TCG), creates up to N capsules one after another,
 * lets them settle, then reports host MemAvailable drop, PSS per capsule (smaps_rollup) and idle CPU per capsule, and
 * destroys them all. Bounded: stops creating at the deadline or when MemAvailable falls under the floor.
 * Usage: node --import tsx bench/agent-density.ts [--density 100] [--deadline-sec 900] [--floor-mib 4096] [--window-sec 20]
 * (WRENN_IMAGES_ROOT, default /var/lib/wrenn)
 */
import { readFile, rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Capsule } from "../apps/host-agent/src/capsules/capsule.ts";
import { execInGuest } from "../apps/host-agent/src/envd-client/exec.ts";
import { readCpuMs, readMemory } from "../apps/host-agent/src/vmm/qemu/proc.ts";

import { startBenchAgent } from "./bench-agent.ts";

const { values } = parseArgs({
  options: {
    density: { type: "string" },
    "deadline-sec": { type: "string" },
    "floor-mib": { type: "string" },
    "window-sec": { type: "string" },
  },
});
const TARGET = Number(values.density ?? 100);
const DEADLINE_MS = Number(values["deadline-sec"] ?? 900) * 1000;
const FLOOR_MIB = Number(values["floor-mib"] ?? 4096);
const WINDOW_MS = Number(values["window-sec"] ?? 20) * 1000;

async function memAvailableMiB(): Promise<number> {
  const text = await readFile("/proc/meminfo", "utf8");
  return Number(/^MemAvailable:\s+(\d+)/m.exec(text)?.[1] ?? 0) / 1024;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

const { root, version, manager } = await startBenchAgent("wrenn-density-", {
  poolSize: 2,
  restoreTimeoutMs: 60_000,
});

const capsules: Capsule[] = [];
try {
  console.log(`wrenn-agent density: ${version}, tcg, target ${TARGET} idle 256 MiB capsules, floor ${FLOOR_MIB} MiB`);
  await manager.start();
  await manager.prewarm("minimal");
  await manager.poolsIdle();
  await sleep(3000);
  // The baseline includes the template and the full pool, so the drop is what the capsules themselves cost.
  const memBefore = await memAvailableMiB();
  const started = Date.now();
  let stopReason = "target reached";
  const createMs: number[] = [];
  for (let i = 0; i < TARGET; i++) {
    if (Date.now() - started > DEADLINE_MS) {
      stopReason = "deadline";
      break;
    }
    if ((await memAvailableMiB()) < FLOOR_MIB) {
      stopReason = "memory floor";
      break;
    }
    const s = performance.now();
    const v = await manager.create({
      capsuleId: `dense-${i}`,
      teamId: "bench",
      template: "minimal",
      vcpus: 1,
      memoryMb: 256,
      timeoutSec: 0,
      diskSizeMb: 0,
      defaultUser: "",
      defaultEnv: {},
    });
    createMs.push(performance.now() - s);
    capsules.push(manager.get(v.capsuleId));
    if ((i + 1) % 10 === 0) console.log(`  ${i + 1} capsules after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const n = capsules.length;
  console.log(`created ${n} capsules in ${((Date.now() - started) / 1000).toFixed(1)} s (${stopReason})`);
  const sorted = [...createMs].sort((a, b) => a - b);
  console.log(
    `create p50 ${sorted[Math.floor(n / 2)]?.toFixed(0)} ms  p95 ${sorted[Math.ceil(0.95 * n) - 1]?.toFixed(0)} ms`,
  );

  // Let the pool refill finish and every guest go quiet before measuring.
  await manager.poolsIdle();
  await sleep(10_000);
  const pids = capsules.map((c) => c.vm.pid);
  const cpuBefore = await Promise.all(pids.map((p) => readCpuMs(p)));
  const windowStart = performance.now();
  await sleep(WINDOW_MS);
  const cpuAfter = await Promise.all(pids.map((p) => readCpuMs(p)));
  const elapsed = performance.now() - windowStart;
  const memAfter = await memAvailableMiB();
  const mem = await Promise.all(pids.map((p) => readMemory(p)));
  const cpuPct = cpuAfter.map((a, i) => ((a - (cpuBefore[i] ?? 0)) / elapsed) * 100);
  const pssMiB = mem.map((m) => m.pssBytes / 2 ** 20);
  console.log(
    `host MemAvailable drop: ${(memBefore - memAfter).toFixed(0)} MiB total, ${((memBefore - memAfter) / n).toFixed(1)} MiB per capsule`,
  );
  console.log(`PSS per idle capsule:   avg ${avg(pssMiB).toFixed(1)} MiB  max ${Math.max(...pssMiB).toFixed(1)} MiB`);
  console.log(
    `idle CPU per capsule:   avg ${avg(cpuPct).toFixed(2)} % of a core  max ${Math.max(...cpuPct).toFixed(2)} %  (all ${n}: ${cpuPct.reduce((a, b) => a + b, 0).toFixed(0)} %)`,
  );
  // Every capsule still answers after sitting idle among the others.
  const answers = await Promise.all(
    capsules.map((c) =>
      execInGuest(c.envd, "true", { timeoutMs: 120_000 }).then(
        (r) => r.exitCode === 0,
        () => false,
      ),
    ),
  );
  console.log(`capsules answering a command afterwards: ${answers.filter(Boolean).length}/${n}`);
} finally {
  for (const c of capsules) await manager.destroy(c.id).catch(() => undefined);
  await manager.shutdown({ destroyAll: true });
  await rm(root, { recursive: true, force: true });
}
