/**
 * Benchmark of persistent capsules in wrenn-agent (prints figures; not a test). Runs the agent's capsule manager
 * in-process against real QEMU (TCG here) with a 256 MiB capsule:
 *   - pause (RAM + device state to disk, VM released),
 *   - resume to envd's first answer (its /init: clock + seed) and to the capsule handed back,
 *   - snapshot to a team template (from running: includes the pause; from paused),
 *   - create from the snapshot template vs from the base template (pool ready, and without pool).
 * Usage: node --import tsx bench/persist-pause-resume.ts [--runs 5]   (WRENN_IMAGES_ROOT, default /var/lib/wrenn)
 */
import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { PauseTimings } from "../apps/host-agent/src/capsules/pause.ts";
import type { ResumeTimings } from "../apps/host-agent/src/capsules/resume.ts";
import { execInGuest } from "../apps/host-agent/src/envd-client/exec.ts";
import { startBenchAgent } from "./bench-agent.ts";
import { printLatencies } from "./percentiles.ts";

const { values } = parseArgs({ options: { runs: { type: "string" } } });
const RUNS = Number(values.runs ?? 5);

const line = (label: string, xs: number[]) => printLatencies(label, xs, 52, 0);

const { root, version, manager } = await startBenchAgent("wrenn-bench-persist-", {
  poolSize: 1,
  restoreTimeoutMs: 60_000,
});

let n = 0;
const create = (template: string) =>
  manager.create({
    capsuleId: `cl-bench-${n++}`,
    teamId: "team-bench",
    template,
    vcpus: 1,
    memoryMb: 256,
    timeoutSec: 0,
    diskSizeMb: 0,
    defaultUser: "",
    defaultEnv: {},
  });
const timed = async <T>(xs: number[], fn: () => Promise<T>): Promise<T> => {
  const s = performance.now();
  const v = await fn();
  xs.push(performance.now() - s);
  return v;
};

try {
  console.log(`wrenn-agent persistence benchmark: ${version}, tcg, 256 MiB capsule, ${RUNS} runs each`);
  await manager.start();
  await manager.prewarm("minimal");
  await manager.poolsIdle();
  const id = (await create("minimal")).capsuleId;
  // Some state worth saving: a python process and a written file.
  await execInGuest(manager.get(id).envd, "sh", {
    args: ["-c", "head -c 8M /dev/urandom > /root/blob; nohup python3 -m http.server 8000 >/dev/null 2>&1 &"],
    timeoutMs: 60_000,
  });
  // Measured on a quiet guest and host: the server has finished starting (python's start takes seconds under TCG and
  // would otherwise run inside the first cycles), and the pool's refill after the create is done.
  await execInGuest(manager.get(id).envd, "python3", {
    args: [
      "-c",
      "import time, urllib.request\nfor _ in range(600):\n  try: urllib.request.urlopen('http://127.0.0.1:8000/', timeout=1); break\n  except OSError: time.sleep(0.1)",
    ],
    timeoutMs: 120_000,
  });
  await manager.poolsIdle();

  const pause: number[] = [];
  const pauseSave: number[] = [];
  const resume: number[] = [];
  const resumeRestore: number[] = [];
  const resumeHealth: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const pt: PauseTimings = { setupMs: 0, saveMs: 0, releaseMs: 0, totalMs: 0 };
    await timed(pause, () => manager.pause(id, "user", pt));
    pauseSave.push(pt.saveMs);
    const rt: ResumeTimings = { restoreMs: 0, healthMs: 0, readyMs: 0, totalMs: 0 };
    await timed(resume, () => manager.resume(id, { timeoutSec: 0, defaultUser: "", defaultEnv: {} }, rt));
    resumeRestore.push(rt.restoreMs);
    resumeHealth.push(rt.restoreMs + rt.healthMs);
  }
  line("pause (stop + save RAM/state + release)", pause);
  line("  of which state save", pauseSave);
  line("resume → envd answered (/init, clock set)", resumeHealth);
  line("resume → capsule handed back (record written)", resume);
  line("  of which QEMU start + state load", resumeRestore);

  const snapRunning: number[] = [];
  const snapPaused: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await timed(snapRunning, () => manager.snapshot(id, "team-bench", "tpl", true));
    await timed(snapPaused, () => manager.snapshot(id, "team-bench", "tpl", true));
    await manager.resume(id, { timeoutSec: 0, defaultUser: "", defaultEnv: {} });
  }
  line("snapshot to template (running capsule, incl. pause)", snapRunning);
  line("snapshot to template (paused capsule)", snapPaused);

  const first: number[] = [];
  const fromSnap: number[] = [];
  const fromBase: number[] = [];
  const fromSnapCold: number[] = [];
  await manager.destroy((await timed(first, () => create("tpl"))).capsuleId);
  for (let i = 0; i < RUNS; i++) {
    await manager.poolsIdle();
    await manager.destroy((await timed(fromSnap, () => create("tpl"))).capsuleId);
    await manager.poolsIdle();
    await manager.destroy((await timed(fromBase, () => create("minimal"))).capsuleId);
  }
  line("first create from the snapshot template (no pool yet)", first);
  line("create from snapshot template (pool ready)", fromSnap);
  line("create from base template (pool ready)", fromBase);
  await manager.poolsIdle();
  const burst = [];
  for (let i = 0; i < 3; i++) burst.push((await timed(fromSnapCold, () => create("tpl"))).capsuleId);
  line("3 back-to-back creates from snapshot template (pool of 1)", fromSnapCold);
  for (const b of burst) await manager.destroy(b);
  await manager.destroy(id);
} finally {
  await manager.shutdown({ destroyAll: true });
  await rm(root, { recursive: true, force: true });
}
