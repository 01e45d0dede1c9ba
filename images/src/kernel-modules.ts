import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "./build-error.ts";
import { runCommand } from "./run-command.ts";

/**
 * The virtio modules the initramfs loads (Debian's cloud kernel builds them as modules). Names are the
 * kernel's module names (`name=` in .modinfo), which may differ from file names (virtio_rng is virtio-rng.ko).
 */
export const VIRTIO_MODULES = [
  "virtio_ring",
  "virtio",
  "virtio_mmio",
  "virtio_blk",
  "failover",
  "net_failover",
  "virtio_net",
  "virtio_console",
  "virtio_rng",
] as const;

/** Modules that must be present for a guest to boot at all; the rest are loaded when the kernel has them. */
const REQUIRED = new Set(["virtio_ring", "virtio", "virtio_mmio", "virtio_blk"]);

/** One kernel module, decompressed, with the modules it depends on. */
export interface KernelModule {
  name: string;
  depends: string[];
  /** The raw ELF object, ready for insmod. */
  bytes: Buffer;
}

/** Reads a `.modinfo` key (`depends`, `name`) out of a module's bytes, as `strings X.ko | grep ^depends=` would. */
export function modinfoField(bytes: Buffer, key: string): string | undefined {
  const needle = Buffer.from(`\0${key}=`);
  const at = bytes.indexOf(needle);
  if (at < 0) return undefined;
  const start = at + needle.length;
  const end = bytes.indexOf(0, start);
  return bytes.subarray(start, end < 0 ? bytes.length : end).toString("latin1");
}

/**
 * Orders modules so every module comes after the modules it depends on (insmod has no dependency
 * resolution). Dependencies outside the set must be built into the kernel; a cycle is a bad kernel.
 */
export function orderModules(mods: readonly KernelModule[]): KernelModule[] {
  const byName = new Map(mods.map((m) => [m.name, m]));
  const ordered: KernelModule[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (m: KernelModule, path: string[]) => {
    const s = state.get(m.name);
    if (s === "done") return;
    if (s === "visiting")
      throw new BuildError("bad_artifact", `kernel module dependency cycle: ${[...path, m.name].join(" -> ")}`);
    state.set(m.name, "visiting");
    for (const dep of m.depends) {
      const d = byName.get(dep);
      if (d) visit(d, [...path, m.name]);
    }
    state.set(m.name, "done");
    ordered.push(m);
  };
  for (const m of mods) visit(m, []);
  return ordered;
}

/**
 * Finds the wanted modules under an extracted `lib/modules/<release>` folder, decompresses `.ko.xz` /
 * `.ko.zst`, pulls in modules they depend on from the same tree, and returns them in load order.
 */
export async function collectModules(
  moduleDir: string,
  wanted: readonly string[] = VIRTIO_MODULES,
): Promise<KernelModule[]> {
  const files = new Map<string, string>();
  for (const e of await readdir(moduleDir, { recursive: true, withFileTypes: true })) {
    const m = /^(.+)\.ko(\.xz|\.zst|\.gz)?$/.exec(e.name);
    // File names use - and _ interchangeably; the kernel treats them as equal.
    if (e.isFile() && m?.[1]) files.set(m[1].replaceAll("-", "_"), join(e.parentPath, e.name));
  }
  const found = new Map<string, KernelModule>();
  const queue = [...wanted];
  for (let i = 0; i < queue.length && i < 200; i++) {
    const name = queue[i]!;
    if (found.has(name)) continue;
    const path = files.get(name);
    if (!path) {
      if (REQUIRED.has(name))
        throw new BuildError(
          "bad_artifact",
          `kernel module ${name} not found under ${moduleDir}`,
          "pick a kernel with virtio as modules or built in",
        );
      continue;
    }
    const bytes = await readModule(path);
    const depends = (modinfoField(bytes, "depends") ?? "").split(",").filter(Boolean);
    found.set(name, { name: modinfoField(bytes, "name") ?? name, depends, bytes });
    queue.push(...depends);
  }
  return orderModules([...found.values()]);
}

/** Reads a module, decompressing a packed one beside itself first (the tree is our own scratch extraction). */
async function readModule(path: string): Promise<Buffer> {
  if (path.endsWith(".ko")) return readFile(path);
  const tool = path.endsWith(".xz") ? "xz" : path.endsWith(".zst") ? "zstd" : "gzip";
  await runCommand(tool, ["-dkfq", path], { hint: `apt-get install -y ${tool === "xz" ? "xz-utils" : tool}` });
  return readFile(path.replace(/\.(xz|zst|gz)$/, ""));
}
