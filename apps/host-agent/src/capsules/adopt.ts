/**
 * After an agent restart: re-attach to every capsule whose QEMU still runs (pid + command line + QMP), pick up every
 * paused capsule from snapshots/, and remove what is dead or was only pooled (pooled clones are cheap to remake and
 * hold no user state). An agent that died in the middle of a pause or resume leaves one of these shapes:
 *   - VM alive (maybe stopped mid-pause): it is running; it gets `cont` and any half-written pause state goes;
 *   - VM dead, but snapshots/<id>/state.bin complete: it is paused (overlay and RAM image move back if they had not);
 *   - VM dead and no complete state: the capsule is lost and its files are removed.
 */
import { access, lstat, readdir, rename, rm, unlink } from "node:fs/promises";
import { EnvdClient } from "../envd-client/envd-client.ts";
import type { Logger } from "../log.ts";
import { templateVmSpec } from "../templates/template-builder.ts";
import type { VmSpec } from "../vmm/vmm.ts";
import { Capsule } from "./capsule.ts";
import { type CapsuleRecord, readRecord, writeRecord } from "./capsule-record.ts";
import type { CloneDeps } from "./clone-factory.ts";

/** What a restarted agent found. */
export interface Adopted {
  readonly running: Capsule[];
  readonly paused: CapsuleRecord[];
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Scans sandboxes/ and snapshots/ and returns the capsules that are still alive or paused. */
export async function adoptCapsules(deps: CloneDeps, log: Logger): Promise<Adopted> {
  const running: Capsule[] = [];
  const paused = new Map<string, CapsuleRecord>();
  for (const id of await readdir(deps.layout.sandboxesDir).catch(() => [] as string[])) {
    const paths = deps.layout.sandbox(id);
    // A pool-folder alias left by a pause the agent did not finish (pause.ts): not a capsule.
    if ((await lstat(paths.dir)).isSymbolicLink()) {
      await unlink(paths.dir);
      continue;
    }
    const snap = deps.layout.snapshot(id);
    const record = await readRecord(paths.record);
    if (!record) {
      // A resume that moved the overlay out and died with the agent before writing the record: put it back.
      if ((await exists(snap.state)) && !(await exists(snap.disk)) && (await exists(paths.overlay))) {
        await rename(paths.overlay, snap.disk);
      }
      if ((await exists(snap.state)) && !(await exists(snap.memory)) && (await exists(paths.memory))) {
        await rename(paths.memory, snap.memory);
      }
      log.warn({ id }, "sandbox folder without a readable capsule.json; removing it");
      await rm(paths.dir, { recursive: true, force: true });
      continue;
    }
    const shape = { template: record.template, vcpus: record.vcpus, memoryMb: record.memoryMb };
    const spec: VmSpec = {
      ...templateVmSpec(deps, shape, record.kernelArgs),
      ...(record.memoryFile ? { memoryFile: record.memoryFile } : {}),
      name: id,
      dir: paths.dir,
      diskPath: paths.overlay,
      memoryShared: false,
      hostPort: record.hostPort,
    };
    const vm = await deps.vmm.adopt(spec, record.pid, { timeoutMs: 5000, spawnDir: record.spawnDir });
    if (record.status === "pooled") {
      if (vm) await vm.kill().catch(() => undefined);
      await rm(paths.dir, { recursive: true, force: true });
      continue;
    }
    if (vm) {
      // A pause interrupted after `stop` leaves the guest stopped; `cont` on a running guest does nothing.
      await vm.resume().catch((err) => log.warn({ capsuleId: id, err: String(err) }, "cont of adopted VM failed"));
      await rm(snap.dir, { recursive: true, force: true });
      running.push(new Capsule(record, vm, new EnvdClient(record.hostPort, record.accessToken), paths.dir));
      log.info({ capsuleId: id, pid: record.pid }, "re-adopted running capsule");
      continue;
    }
    if ((await exists(snap.state)) && ((await exists(snap.disk)) || (await exists(paths.overlay)))) {
      if (!(await exists(snap.disk))) await rename(paths.overlay, snap.disk);
      // A resume that died with its VM: its RAM image goes back beside the state it belongs to.
      if (!(await exists(snap.memory)) && (await exists(paths.memory))) await rename(paths.memory, snap.memory);
      const p: CapsuleRecord = { ...record, status: "paused", pid: 0, hostPort: 0, pausedAtMs: Date.now() };
      await writeRecord(snap.record, p);
      await rm(paths.dir, { recursive: true, force: true });
      paused.set(id, p);
      log.warn({ capsuleId: id }, "finished a pause interrupted by an agent restart");
      continue;
    }
    log.warn({ capsuleId: id, pid: record.pid }, "capsule VM is gone; removing its files");
    await rm(paths.dir, { recursive: true, force: true });
    await rm(snap.dir, { recursive: true, force: true });
  }
  const runningIds = new Set(running.map((c) => c.id));
  for (const id of await readdir(deps.layout.snapshotsDir).catch(() => [] as string[])) {
    if (runningIds.has(id) || paused.has(id)) continue;
    const snap = deps.layout.snapshot(id);
    const record = await readRecord(snap.record);
    if (record?.status === "paused" && (await exists(snap.state)) && (await exists(snap.disk))) {
      paused.set(id, record);
      log.info({ capsuleId: id }, "found paused capsule");
      continue;
    }
    log.warn({ id }, "incomplete pause state without a live VM; removing it");
    await rm(snap.dir, { recursive: true, force: true });
  }
  return { running, paused: [...paused.values()] };
}
