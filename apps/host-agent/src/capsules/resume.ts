/**
 * Resuming a paused capsule: its overlay and RAM image move back to sandboxes/<id>/, a new QEMU with the capsule's
 * command line (new forwarded port) maps the RAM image copy-on-write, loads the device state of
 * snapshots/<id>/state.bin and continues (a state in the earlier all-RAM stream form is streamed into a fresh RAM
 * file instead); envd's first answer is to /init, which gives it a fresh RNG seed and the clock (the access token
 * stays the capsule's). Failure before the guest runs moves everything back; failure after it ran saves its state again (disk and RAM must stay a matching pair), so
 * either way the capsule stays paused and can be resumed again.
 */
import { access, mkdir, rename, rm } from "node:fs/promises";
import { EnvdClient } from "../envd-client/envd-client.ts";
import { AgentError, errors } from "../errors.ts";
import { templateVmSpec } from "../templates/template-builder.ts";
import { restoreOnFreePort } from "../vmm/restore-on-free-port.ts";
import type { Vm } from "../vmm/vmm.ts";
import { Capsule } from "./capsule.ts";
import { type CapsuleRecord, writeRecord } from "./capsule-record.ts";
import type { CloneDeps } from "./clone-factory.ts";
import { newIdentity } from "./identity.ts";
import { type PauseDeps, saveSplitState } from "./pause.ts";

/** What a resume may change. */
export interface ResumeInput {
  /** New inactivity timeout; 0 keeps the capsule's. */
  readonly timeoutSec: number;
  readonly defaultUser: string;
  readonly defaultEnv: Record<string, string>;
}

/** Timings of one resume, in ms. */
export interface ResumeTimings {
  /** QEMU start + state load + cont. */
  restoreMs: number;
  /** From cont to envd's first answer (its /init). */
  healthMs: number;
  /** From cont to the capsule handed back (/init done, record written). */
  readyMs: number;
  totalMs: number;
}

/** Resumes the paused `record` (the caller holds its lifecycle lock). Resolves with the running capsule. */
export async function resumeCapsule(
  deps: CloneDeps & PauseDeps,
  record: CapsuleRecord,
  input: ResumeInput,
  timings?: ResumeTimings,
): Promise<Capsule> {
  const id = record.capsuleId;
  const snap = deps.layout.snapshot(id);
  const box = deps.layout.sandbox(id);
  const started = performance.now();
  await rm(box.dir, { recursive: true, force: true });
  await mkdir(box.dir, { recursive: true });
  const split = await exists(snap.memory);
  await rename(snap.disk, box.overlay);
  if (split) await rename(snap.memory, box.memory);
  // `withMemory` false: a re-save after the guest ran already wrote a newer RAM image to snapshots/<id>/.
  const moveBack = async (withMemory = true) => {
    await rename(box.overlay, snap.disk).catch(() => undefined);
    if (split && withMemory) await rename(box.memory, snap.memory).catch(() => undefined);
    await rm(box.dir, { recursive: true, force: true });
  };
  // The RAM image, or (stream form) a folder where QEMU makes an unlinked temp file to stream all RAM into.
  const memoryFile = split ? box.memory : box.dir;
  let vm: Vm;
  try {
    const shape = { template: record.template, vcpus: record.vcpus, memoryMb: record.memoryMb };
    vm = await restoreOnFreePort(
      deps.vmm,
      {
        ...templateVmSpec(deps, shape, record.kernelArgs),
        name: id,
        dir: box.dir,
        diskPath: box.overlay,
        memoryFile,
        memoryShared: false,
      },
      snap.state,
      { timeoutMs: deps.restoreTimeoutMs, ignoreShared: false, devicesOnly: split },
    );
  } catch (err) {
    await moveBack();
    throw errors.resumeFailed(id, err);
  }
  const restored = performance.now();
  const now0 = Date.now();
  const running: CapsuleRecord = {
    ...record,
    status: "running",
    statusReason: "user",
    timeoutSec: input.timeoutSec || record.timeoutSec,
    pid: vm.pid,
    spawnDir: box.dir,
    hostPort: vm.spec.hostPort,
    memoryFile,
    lastActiveAtMs: now0,
    pausedAtMs: undefined,
  };
  // Written before the guest is reachable: an agent that dies from here on re-adopts a live VM, not an orphan.
  await writeRecord(box.record, running);
  const envd = new EnvdClient(vm.spec.hostPort, record.accessToken);
  let healthAt = 0;
  try {
    // /init is the first request (no /health before it): the clock and a fresh seed go in with the first answer.
    const identity = newIdentity();
    await envd.initWhenReady(
      () => ({
        accessToken: record.accessToken,
        envVars: input.defaultEnv,
        defaultUser: input.defaultUser || undefined,
        timestamp: Date.now(),
        rngSeed: identity.rngSeed,
      }),
      deps.restoreTimeoutMs,
      () => vm.isAlive(),
    );
    healthAt = performance.now();
    if (deps.failpoints.has("resume-after-start"))
      throw new AgentError("internal_error", "failpoint resume-after-start");
  } catch (err) {
    envd.close();
    const resaved = await repause(deps, vm, record).then(
      () => true,
      (e) => {
        deps.log.error({ capsuleId: id, err: AgentError.from(e).message }, "saving state after a failed resume failed");
        return false;
      },
    );
    await vm.kill().catch(() => undefined);
    await moveBack(!resaved);
    throw errors.resumeFailed(id, err);
  }
  const final: CapsuleRecord = {
    ...running,
    lastActiveAtMs: Date.now(),
    metadata: record.metadata,
  };
  await writeRecord(box.record, final);
  await rm(snap.dir, { recursive: true, force: true });
  const done = performance.now();
  const t = {
    restoreMs: Math.round(restored - started),
    healthMs: Math.round(healthAt - restored),
    readyMs: Math.round(done - restored),
    totalMs: Math.round(done - started),
  };
  if (timings) Object.assign(timings, t);
  deps.log.info({ capsuleId: id, ...t }, "capsule resumed");
  return new Capsule(final, vm, envd, box.dir);
}

/** The guest ran after the restore: save its current state over the old one so disk and RAM still match. */
async function repause(deps: CloneDeps & PauseDeps, vm: Vm, record: CapsuleRecord): Promise<void> {
  const snap = deps.layout.snapshot(record.capsuleId);
  if (!vm.isAlive()) throw new AgentError("internal_error", "the VM is gone; its last saved state is kept");
  // Written beside the old files and renamed over them: the QEMU maps the old RAM image until it is killed.
  await saveSplitState(vm, snap);
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
