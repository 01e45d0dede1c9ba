/**
 * Makes one running clone of a warm template: qcow2 overlay over the template's frozen disk, QEMU restored from its
 * device state with RAM mapped privately from its memory file, envd answering, and one command run so the emulator
 * has re-translated the guest's hot paths. A failure leaves nothing behind.
 */
import { mkdir, rm } from "node:fs/promises";
import { EnvdClient } from "../envd-client/envd-client.ts";
import { execInGuest } from "../envd-client/exec.ts";
import { AgentError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { HostLayout } from "../storage/layout.ts";
import { createOverlay } from "../storage/overlay.ts";
import { templateVmSpec } from "../templates/template-builder.ts";
import type { ReadyTemplate } from "../templates/template-store.ts";
import { restoreOnFreePort } from "../vmm/restore-on-free-port.ts";
import type { Vm, Vmm } from "../vmm/vmm.ts";

/** A restored, answering clone not yet given an identity. */
export interface Clone {
  readonly vm: Vm;
  readonly envd: EnvdClient;
  readonly hostPort: number;
  /** Folder the QEMU process was started in. */
  readonly spawnDir: string;
  readonly envdVersion: string;
}

/** What restoring needs. */
export interface CloneDeps {
  readonly vmm: Vmm;
  readonly layout: HostLayout;
  readonly qemuImg: string;
  readonly extraKernelArgs: string;
  readonly restoreTimeoutMs: number;
  readonly log: Logger;
}

/** Restores a clone of `template` into sandboxes/`id`/. */
export async function restoreClone(
  deps: CloneDeps,
  template: ReadyTemplate,
  id: string,
  warm: boolean,
): Promise<Clone> {
  const paths = deps.layout.sandbox(id);
  const started = Date.now();
  await mkdir(paths.dir, { recursive: true });
  let vm: Vm | undefined;
  let envd: EnvdClient | undefined;
  try {
    await createOverlay(deps.qemuImg, template.paths.disk, "qcow2", paths.overlay);
    const base = {
      ...templateVmSpec(deps, template.meta.shape, template.meta.kernelArgs),
      // Team templates keep their memory file in their own folder.
      memoryFile: template.paths.memory,
    };
    vm = await restoreOnFreePort(
      deps.vmm,
      { ...base, name: id, dir: paths.dir, diskPath: paths.overlay, memoryShared: false },
      template.paths.state,
      { timeoutMs: deps.restoreTimeoutMs, ignoreShared: true },
    );
    const current = vm;
    // A team template's guest still holds its source capsule's token until /init replaces it.
    envd = new EnvdClient(current.spec.hostPort, template.accessToken);
    const remaining = Math.max(1000, deps.restoreTimeoutMs - (Date.now() - started));
    const health = await envd.waitReady(remaining, () => current.isAlive());
    if (warm) await execInGuest(envd, "true", { timeoutMs: remaining });
    deps.log.debug({ id, ms: Date.now() - started }, "clone restored");
    return { vm: current, envd, hostPort: current.spec.hostPort, spawnDir: paths.dir, envdVersion: health.version };
  } catch (err) {
    envd?.close();
    await vm?.kill().catch(() => undefined);
    await rm(paths.dir, { recursive: true, force: true });
    const e = AgentError.from(err);
    throw new AgentError(e.code === "internal_error" ? "vm_start_failed" : e.code, `restoring a clone: ${e.message}`, {
      cause: err,
    });
  }
}

/** Kills a clone and removes its folder. */
export async function discardClone(clone: Clone, dir: string): Promise<void> {
  clone.envd.close();
  await clone.vm.kill().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
