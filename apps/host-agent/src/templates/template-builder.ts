/**
 * Builds one warm template (vm.md §5, §9): cold-boot the image with RAM in a shared memory file, wait for envd,
 * warm the interpreters, save device state with x-ignore-shared (RAM stays in the memory file), freeze the disk,
 * kill the VM. Clones then restore from it copy-on-write. Any failure removes the half-built folder.
 */
import { chmod, mkdir, realpath, rm, writeFile } from "node:fs/promises";
import { ENVD_PORT } from "@wrenn/protocol";
import { EnvdClient } from "../envd-client/envd-client.ts";
import { execInGuest } from "../envd-client/exec.ts";
import { AgentError, errors } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { HostLayout } from "../storage/layout.ts";
import { createOverlay } from "../storage/overlay.ts";
import { guestKernelArgs, vmFiles } from "../vmm/qemu/cmdline.ts";
import { ConsoleTail, tailFile } from "../vmm/qemu/console-log.ts";
import { bootOnFreePort } from "../vmm/restore-on-free-port.ts";
import type { Vm, Vmm, VmSpec } from "../vmm/vmm.ts";
import { type TemplateShape, templateKey } from "./template-key.ts";

/** Commands run once in the template so clones start with warm caches and translated code. */
export const WARM_COMMANDS: readonly (readonly string[])[] = [["true"], ["python3", "-c", "print(1)"]];

/** Saved facts about a built template (template.json). Written last: its presence means "complete". */
export interface TemplateMeta {
  readonly key: string;
  readonly fingerprint: string;
  readonly shape: TemplateShape;
  readonly kernelArgs: string;
  readonly envdVersion: string;
  readonly builtAtMs: number;
  readonly bootMs: number;
  readonly buildMs: number;
}

/** Dependencies of a build. */
export interface TemplateBuildDeps {
  readonly vmm: Vmm;
  readonly layout: HostLayout;
  readonly qemuImg: string;
  readonly extraKernelArgs: string;
  readonly bootTimeoutMs: number;
  readonly log: Logger;
}

/** The spec every VM of this template (the template itself and all its clones) shares. */
export function templateVmSpec(
  deps: Pick<TemplateBuildDeps, "vmm" | "layout" | "extraKernelArgs">,
  shape: TemplateShape,
  kernelArgs = guestKernelArgs(deps.vmm.kernelArgs, deps.extraKernelArgs),
): Omit<VmSpec, "name" | "dir" | "diskPath" | "memoryShared" | "hostPort"> {
  const t = deps.layout.template(templateKey(shape));
  return {
    vcpus: shape.vcpus,
    memoryMb: shape.memoryMb,
    kernelPath: deps.layout.kernel,
    initrdPath: deps.layout.initrd,
    kernelArgs,
    memoryFile: t.memory,
    guestPort: ENVD_PORT,
  };
}

/** Builds the template of `shape` from scratch into templates/<key>/. */
export async function buildTemplate(
  deps: TemplateBuildDeps,
  shape: TemplateShape,
  fingerprint: string,
): Promise<TemplateMeta> {
  const key = templateKey(shape);
  const paths = deps.layout.template(key);
  const image = deps.layout.image(shape.template);
  const log = deps.log.child({ template: key });
  const started = Date.now();
  await rm(paths.dir, { recursive: true, force: true });
  await mkdir(paths.dir, { recursive: true });
  let vm: Vm | undefined;
  let envd: EnvdClient | undefined;
  let tail: ConsoleTail | undefined;
  try {
    // Back the template by the versioned image file, not the rootfs.ext4 link: a rebuilt image gets a new
    // file, so templates and paused capsules made from the old one keep reading the bytes they were made from.
    await createOverlay(deps.qemuImg, await realpath(image.rootfs), "raw", paths.disk);
    const base = templateVmSpec(deps, shape);
    const spec: Omit<VmSpec, "hostPort"> = {
      ...base,
      name: `template-${key}`,
      dir: paths.dir,
      diskPath: paths.disk,
      memoryShared: true,
    };
    log.info("cold-booting template");
    tail = new ConsoleTail(vmFiles(paths.dir).console, log);
    vm = await bootOnFreePort(deps.vmm, spec, { timeoutMs: 30_000 });
    envd = new EnvdClient(vm.spec.hostPort);
    const current = vm;
    const health = await envd
      .waitReady(deps.bootTimeoutMs, () => current.isAlive())
      .catch(async (err) => {
        const console = (await tailFile(vmFiles(paths.dir).console, 1500)).trim().split("\n").slice(-8).join(" | ");
        const e = AgentError.from(err);
        throw errors.vmNotReady(
          `template ${key}`,
          Date.now() - started,
          `${e.message}; console: ${console || "(empty)"}`,
        );
      });
    const bootMs = Date.now() - started;
    log.info({ bootMs, envdVersion: health.version }, "template booted; warming");
    for (const [cmd, ...args] of WARM_COMMANDS) {
      const r = await execInGuest(envd, cmd as string, { args, timeoutMs: 60_000 });
      if (r.exitCode !== 0) {
        throw new AgentError(
          "template_failed",
          `warm-up \`${[cmd, ...args].join(" ")}\` exited ${r.exitCode}: ${r.stderr}`,
        );
      }
    }
    await envd.prepareSnapshot(3000);
    // No agent connection may be open inside the saved state: clones would inherit half-open sockets.
    envd.close();
    envd = undefined;
    await vm.saveState(paths.state, { ignoreShared: true, timeoutMs: 60_000 });
    await vm.kill();
    vm = undefined;
    await tail.stop();
    // Frozen from now on: every clone's overlay is layered on this disk and reads this memory file.
    await chmod(paths.disk, 0o444);
    await chmod(paths.memory, 0o444);
    const meta: TemplateMeta = {
      key,
      fingerprint,
      shape,
      kernelArgs: spec.kernelArgs,
      envdVersion: health.version,
      builtAtMs: Date.now(),
      bootMs,
      buildMs: Date.now() - started,
    };
    await writeFile(paths.meta, JSON.stringify(meta, null, 2));
    log.info({ bootMs, buildMs: meta.buildMs }, "template ready");
    return meta;
  } catch (err) {
    envd?.close();
    await vm?.kill().catch(() => undefined);
    await tail?.stop();
    await rm(paths.dir, { recursive: true, force: true });
    throw AgentError.from(err);
  }
}
