/**
 * After an agent restart: re-attach to every capsule whose QEMU still runs (pid + command line + QMP), and remove
 * what is dead or was only pooled (pooled clones are cheap to remake and hold no user state).
 */
import { readdir, rm } from "node:fs/promises";
import { EnvdClient } from "../envd-client/envd-client.ts";
import type { Logger } from "../log.ts";
import { templateVmSpec } from "../templates/template-builder.ts";
import type { VmSpec } from "../vmm/vmm.ts";
import { Capsule } from "./capsule.ts";
import { readRecord } from "./capsule-record.ts";
import type { CloneDeps } from "./clone-factory.ts";

/** Scans sandboxes/ and returns the capsules that are still alive. */
export async function adoptCapsules(deps: CloneDeps, log: Logger): Promise<Capsule[]> {
  const ids = await readdir(deps.layout.sandboxesDir).catch(() => [] as string[]);
  const adopted: Capsule[] = [];
  for (const id of ids) {
    const paths = deps.layout.sandbox(id);
    const record = await readRecord(paths.record);
    if (!record) {
      log.warn({ id }, "sandbox folder without a readable capsule.json; removing it");
      await rm(paths.dir, { recursive: true, force: true });
      continue;
    }
    const shape = { template: record.template, vcpus: record.vcpus, memoryMb: record.memoryMb };
    const spec: VmSpec = {
      ...templateVmSpec(deps, shape, record.kernelArgs),
      name: id,
      dir: paths.dir,
      diskPath: paths.overlay,
      memoryShared: false,
      hostPort: record.hostPort,
    };
    const vm = await deps.vmm.adopt(spec, record.pid, { timeoutMs: 5000, spawnDir: record.spawnDir });
    if (record.status === "pooled" || !vm) {
      if (vm) await vm.kill().catch(() => undefined);
      else if (record.status !== "pooled")
        log.warn({ capsuleId: id, pid: record.pid }, "capsule VM is gone; removing its files");
      await rm(paths.dir, { recursive: true, force: true });
      continue;
    }
    adopted.push(new Capsule(record, vm, new EnvdClient(record.hostPort, record.accessToken), paths.dir));
    log.info({ capsuleId: id, pid: record.pid }, "re-adopted running capsule");
  }
  return adopted;
}
