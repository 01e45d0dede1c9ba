/**
 * Makes one running clone of a warm template: qcow2 overlay over the template's frozen disk, QEMU restored from its
 * device state with RAM mapped privately from its memory file, and envd answering. A clone made for the pool is
 * also identified (identity.ts) and warmed: the requests a user makes first are run once so the emulator has
 * re-translated their guest code before hand-out. A failure leaves nothing behind.
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
import { type CloneIdentity, identifyClone } from "./identity.ts";

/** A restored, answering clone; `identity` is set once it was given one (pool clones, at once). */
export interface Clone {
  readonly vm: Vm;
  readonly envd: EnvdClient;
  readonly hostPort: number;
  /** Folder the QEMU process was started in. */
  readonly spawnDir: string;
  readonly envdVersion: string;
  identity?: CloneIdentity;
  /** When envd last answered the agent (unix ms). */
  answeredAtMs: number;
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

/**
 * Restores a clone of `template` into sandboxes/`id`/. `warm` (pool clones): identify it and run its first
 * requests now, while nobody waits; otherwise the caller identifies it at hand-out.
 */
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
      { timeoutMs: deps.restoreTimeoutMs, ignoreShared: true, devicesOnly: template.devicesOnly },
    );
    const current = vm;
    // A team template's guest still holds its source capsule's token until /init replaces it.
    envd = new EnvdClient(current.spec.hostPort, template.accessToken);
    const remaining = Math.max(1000, deps.restoreTimeoutMs - (Date.now() - started));
    const health = await envd.waitReady(remaining, () => current.isAlive());
    const clone: Clone = {
      vm: current,
      envd,
      hostPort: current.spec.hostPort,
      spawnDir: paths.dir,
      envdVersion: health.version,
      answeredAtMs: Date.now(),
    };
    if (warm) {
      await identifyClone(clone, undefined, remaining);
      await warmUp(envd, remaining);
      clone.answeredAtMs = Date.now();
    }
    deps.log.debug({ id, ms: Date.now() - started, warm }, "clone restored");
    return clone;
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

/**
 * The requests a new capsule usually gets first (a command, a stat, a listing), each run once with the clone's own
 * token. Nothing they do touches the clone's identity.
 */
async function warmUp(envd: EnvdClient, timeoutMs: number): Promise<void> {
  const r = await execInGuest(envd, "true", { timeoutMs });
  if (r.exitCode !== 0) throw new AgentError("guest_error", `warm-up command exited ${r.exitCode}`);
  await envd.filesystem.stat({ path: "/" }, { timeoutMs });
  await envd.filesystem.listDir({ path: "/", depth: 1 }, { timeoutMs });
}

/** Kills a clone and removes its folder. */
export async function discardClone(clone: Clone, dir: string): Promise<void> {
  clone.envd.close();
  await clone.vm.kill().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
