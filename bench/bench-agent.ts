/**
 * The in-process wrenn-agent the VM benchmarks drive: a temp root that links the built kernels and images
 * (WRENN_IMAGES_ROOT, default /var/lib/wrenn), the QEMU driver under TCG, and a capsule manager on it.
 */
import { mkdtemp, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CapsuleManager, createCapsuleManager } from "../apps/host-agent/src/capsules/capsule-manager.ts";
import { createLogger } from "../apps/host-agent/src/log.ts";
import { type HostLayout, hostLayout } from "../apps/host-agent/src/storage/layout.ts";
import { createTemplateStore, type TemplateStore } from "../apps/host-agent/src/templates/template-store.ts";
import { hostTscKhz, qemuVersion } from "../apps/host-agent/src/vmm/qemu/host-facts.ts";
import { createQemuVmm } from "../apps/host-agent/src/vmm/qemu/qemu-vmm.ts";

/** What a benchmark gets. */
export interface BenchAgent {
  readonly root: string;
  readonly layout: HostLayout;
  /** `qemu-system-x86_64 --version` first line. */
  readonly version: string;
  readonly templates: TemplateStore;
  readonly manager: CapsuleManager;
}

/** Starts the setup under a fresh temp root named `prefix…`. */
export async function startBenchAgent(
  prefix: string,
  options: { poolSize: number; restoreTimeoutMs: number },
): Promise<BenchAgent> {
  const imagesRoot = process.env.WRENN_IMAGES_ROOT ?? "/var/lib/wrenn";
  const root = await mkdtemp(join(tmpdir(), prefix));
  await symlink(join(imagesRoot, "kernels"), join(root, "kernels"));
  await symlink(join(imagesRoot, "images"), join(root, "images"));
  const log = createLogger(process.env.LOG_LEVEL ?? "warn");
  const layout = hostLayout(root);
  const version = await qemuVersion("qemu-system-x86_64");
  const vmm = createQemuVmm({
    bin: "qemu-system-x86_64",
    accelerator: "tcg",
    tscKhz: await hostTscKhz(),
    version,
    log,
  });
  // AGENT_KERNEL_ARGS as for the agent itself, so a benchmark can compare guest settings.
  const common = { vmm, layout, qemuImg: "qemu-img", extraKernelArgs: process.env.AGENT_KERNEL_ARGS ?? "", log };
  const templates = createTemplateStore({ ...common, bootTimeoutMs: 180_000 });
  const manager = createCapsuleManager({
    ...common,
    restoreTimeoutMs: options.restoreTimeoutMs,
    templates,
    poolSize: options.poolSize,
    defaultMemoryMb: 256,
    hostMetadata: {},
  });
  return { root, layout, version, templates, manager };
}
