/**
 * Pausing a running capsule to disk (reference §5 "Pause"): QEMU stops (which flushes the disk), writes its device
 * state alone to snapshots/<id>/state.bin, and the agent copies the guest RAM out of the stopped process into the
 * sparse file snapshots/<id>/memory (vmm `saveSplit`); then the VM is killed and the disk overlay moves next to them.
 * Until the state is complete the VM is only stopped: any failure up to there resumes it (`cont`), so a failed pause
 * leaves the capsule running as before.
 *
 * Why this form and not one migration stream with all RAM: a resume then maps the RAM file copy-on-write and loads
 * a few hundred KiB of device state (~20 ms) instead of parsing and copying every page (200–500 ms for a 256 MiB
 * guest under TCG), and a paused capsule is already in the form a template needs. The capsule no longer needs its
 * template's memory file; it still needs the template's disk (its overlay's backing file).
 *
 * Why no envd /snapshot/prepare: its `sync` costs 0.2–1.2 s under TCG and buys nothing here (disk and RAM are
 * captured at the same `stop`, so the guest's page cache travels with the RAM); the idle agent connections it would
 * mark are closed by envd's keep-alive timeout; and a prepare that timed out but finished after the restore would
 * drop the agent's fresh connections.
 */
import { mkdir, rename, rm } from "node:fs/promises";
import { AgentError, errors } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { HostLayout, SnapshotPaths } from "../storage/layout.ts";
import type { Vm } from "../vmm/vmm.ts";
import type { Capsule } from "./capsule.ts";
import { type CapsuleRecord, writeRecord } from "./capsule-record.ts";

/** Deadline of the state save (RAM of a large capsule to a slow disk). */
export const SAVE_TIMEOUT_MS = 120_000;

/** What a pause needs. */
export interface PauseDeps {
  readonly layout: HostLayout;
  readonly log: Logger;
  /** Test-only fault injection (config `AGENT_FAILPOINTS`). */
  readonly failpoints: ReadonlySet<string>;
}

/** Timings of one pause, in ms (logged, and read by the benchmark). */
export interface PauseTimings {
  setupMs: number;
  saveMs: number;
  releaseMs: number;
  totalMs: number;
}

/**
 * Pauses `c` (the caller holds its lifecycle lock). Resolves with the paused record, written to
 * snapshots/<id>/capsule.json; sandboxes/<id>/ is gone and the VM is dead. On rejection the capsule still runs.
 */
export async function pauseCapsule(
  deps: PauseDeps,
  c: Capsule,
  reason: string,
  timings?: PauseTimings,
): Promise<CapsuleRecord> {
  const snap = deps.layout.snapshot(c.id);
  const box = deps.layout.sandbox(c.id);
  const started = performance.now();
  await rm(snap.dir, { recursive: true, force: true });
  await mkdir(snap.dir, { recursive: true });
  const setUp = performance.now();
  try {
    await saveSplitState(c.vm, snap);
    if (deps.failpoints.has("pause-after-save")) throw new AgentError("internal_error", "failpoint pause-after-save");
  } catch (err) {
    // The guest is stopped (maybe after a complete save): start it again so the capsule stays usable.
    await c.vm
      .resume()
      .catch((e) => deps.log.error({ capsuleId: c.id, err: AgentError.from(e).message }, "cont failed"));
    await rm(snap.dir, { recursive: true, force: true });
    throw errors.pauseFailed(c.id, err);
  }
  const saved = performance.now();
  // Point of no return: the state is complete. The overlay is final once QEMU is gone.
  c.envd.close();
  await c.vm.kill();
  await rename(box.overlay, snap.disk);
  const record: CapsuleRecord = {
    ...c.record,
    status: "paused",
    statusReason: reason,
    pid: 0,
    hostPort: 0,
    pausedAtMs: Date.now(),
  };
  await writeRecord(snap.record, record);
  await rm(box.dir, { recursive: true, force: true });
  const done = performance.now();
  const t = {
    setupMs: Math.round(setUp - started),
    saveMs: Math.round(saved - setUp),
    releaseMs: Math.round(done - saved),
    totalMs: Math.round(done - started),
  };
  if (timings) Object.assign(timings, t);
  deps.log.info({ capsuleId: c.id, reason, ...t }, "capsule paused");
  return record;
}

/** Stops `vm` and writes its RAM image and device state into `snap`; the state file is renamed last (complete). */
export async function saveSplitState(vm: Vm, snap: SnapshotPaths): Promise<void> {
  await vm.saveSplit({ devicesPath: snap.stateTmp, memoryPath: snap.memoryTmp });
  await rename(snap.memoryTmp, snap.memory);
  await rename(snap.stateTmp, snap.state);
}
