/**
 * Pausing a running capsule to disk (reference §5 "Pause", vm.md §9 step 4): QEMU stops and streams its device state with all guest RAM to snapshots/<id>/state.bin, then the VM is killed and the disk
 * overlay moves next to the state. Until the state is complete the VM is only stopped: any failure up to there
 * resumes it (`cont`), so a failed pause leaves the capsule running as before.
 *
 * Why all RAM: a clone's memory is a private mapping of its template's memory file, and x-ignore-shared only skips
 * shared mappings, so the stream holds every non-zero page (QEMU skips zero pages). The capsule then no longer
 * needs the template's memory file; it still needs the template's disk (its overlay's backing file).
 *
 * Why no envd /snapshot/prepare: its `sync` costs 0.2–1.2 s under TCG and buys nothing here (disk and RAM are
 * captured at the same `stop`, so the guest's page cache travels with the RAM); the idle agent connections it would
 * mark are closed by envd's keep-alive timeout; and a prepare that timed out but finished after the restore would
 * drop the agent's fresh connections.
 */
import { mkdir, rename, rm, symlink, unlink } from "node:fs/promises";
import { AgentError, errors } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { HostLayout } from "../storage/layout.ts";
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
  // A pooled clone's QEMU opened its disk under the pool folder, since renamed. Finishing the save inactivates the
  // disk, and QEMU reopens it by that first path (bdrv_inactivate_all fails otherwise): alias it for the save.
  const alias = c.record.spawnDir !== box.dir ? c.record.spawnDir : undefined;
  if (alias) await symlink(box.dir, alias).catch(() => undefined);
  const setUp = performance.now();
  try {
    await c.vm.saveState(snap.stateTmp, { ignoreShared: false, timeoutMs: SAVE_TIMEOUT_MS });
    if (deps.failpoints.has("pause-after-save")) throw new AgentError("internal_error", "failpoint pause-after-save");
    await rename(snap.stateTmp, snap.state);
  } catch (err) {
    // The guest is stopped (maybe after a complete save): start it again so the capsule stays usable.
    await c.vm
      .resume()
      .catch((e) => deps.log.error({ capsuleId: c.id, err: AgentError.from(e).message }, "cont failed"));
    // `cont` may reopen the disk by its first path too, so the alias goes only now.
    if (alias) await unlink(alias).catch(() => undefined);
    await rm(snap.dir, { recursive: true, force: true });
    throw errors.pauseFailed(c.id, err);
  }
  if (alias) await unlink(alias).catch(() => undefined);
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
