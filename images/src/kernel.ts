import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "./build-error.ts";
import { allExist, withScratchDir, writeFileAtomic } from "./fs-atomic.ts";
import { readGuestFile } from "./guest-files.ts";
import type { HostLayout } from "./host-layout.ts";
import { buildInitramfs, readStaticBusybox } from "./initramfs.ts";
import { collectModules, VIRTIO_MODULES } from "./kernel-modules.ts";
import { readJson } from "./manifest.ts";
import type { Progress } from "./progress.ts";
import { recipeHash } from "./recipe-hash.ts";
import { runCommand } from "./run-command.ts";

/** Bump when the way kernels/ is assembled changes in a way the inputs below do not capture. */
const KERNEL_RECIPE_VERSION = 1;
const META_PACKAGE = "linux-image-cloud-amd64";

/** What kernels/ holds after a build; kernels/manifest.json (the builder's own record). */
export interface KernelManifest {
  package: string;
  deb: string;
  release: string;
  modules: string[];
  recipe_hash: string;
  built_at: string;
}

/**
 * Makes sure kernels/ holds Debian's cloud kernel (vmlinuz), a busybox initramfs with the virtio
 * modules (initrd.img) and the release string, rebuilding only when the package or the initramfs
 * recipe changed. Returns the kernel release.
 */
export async function ensureKernel(layout: HostLayout, progress: Progress, force: boolean): Promise<string> {
  const deb = await progress.step("kernel: find and download the cloud kernel package", async (s) => {
    const pkg = await resolveKernelPackage(layout.kernelCacheDir);
    const file = await downloadDeb(pkg, layout, (l) => s.tick(l));
    s.note(file);
    return { pkg, file };
  });
  const initScript = await readGuestFile("initramfs-init.sh");
  const busybox = await readStaticBusybox();
  const hash = recipeHash({
    v: KERNEL_RECIPE_VERSION,
    deb: deb.file,
    initScript,
    busybox: createHash("sha256").update(busybox).digest("hex"),
    modules: VIRTIO_MODULES,
  });
  const current = await readJson<KernelManifest>(layout.kernelManifest);
  if (!force && current?.recipe_hash === hash && (await allExist([layout.vmlinuz, layout.initrd, layout.release]))) {
    progress.info(`= kernel ${current.release}: up to date`);
    return current.release;
  }
  return progress.step("kernel: extract vmlinuz and build the initramfs", async (s) =>
    withScratchDir(layout.scratchDir, "kernel", async (dir) => {
      await runCommand("dpkg-deb", ["-x", join(layout.kernelCacheDir, deb.file), dir], {
        hint: "apt-get install -y dpkg",
      });
      const vmlinuz = (await readdir(join(dir, "boot"))).find((f) => f.startsWith("vmlinuz-"));
      if (!vmlinuz) throw new BuildError("bad_artifact", `${deb.file} has no boot/vmlinuz-*`);
      const release = vmlinuz.slice("vmlinuz-".length);
      const modules = await collectModules(join(dir, "lib", "modules", release));
      s.note(`${release}, modules: ${modules.map((m) => m.name).join(" ")}`);
      await writeFile(join(dir, "initrd.img"), buildInitramfs({ initScript, busybox, modules }));
      await mkdir(layout.kernelsDir, { recursive: true });
      // Replace by rename: a QEMU that is booting keeps its open file, new boots get the new one.
      await copyFile(join(dir, "boot", vmlinuz), `${layout.vmlinuz}.tmp`);
      await rename(`${layout.vmlinuz}.tmp`, layout.vmlinuz);
      await rename(join(dir, "initrd.img"), layout.initrd);
      await writeFileAtomic(layout.release, `${release}\n`);
      const manifest: KernelManifest = {
        package: deb.pkg,
        deb: deb.file,
        release,
        modules: modules.map((m) => m.name),
        recipe_hash: hash,
        built_at: new Date().toISOString(),
      };
      await writeFileAtomic(layout.kernelManifest, `${JSON.stringify(manifest, null, 2)}\n`);
      return release;
    }),
  );
}

/** The concrete kernel package behind Debian's cloud meta package; falls back to a cached download when apt knows none. */
async function resolveKernelPackage(cacheDir: string): Promise<string> {
  try {
    const { stdout } = await runCommand("apt-cache", ["depends", META_PACKAGE], { timeoutMs: 60_000 });
    const m = /Depends:\s*(linux-image-[^\s]+-cloud-amd64)/.exec(stdout);
    if (m?.[1]) return m[1];
  } catch {
    // No apt metadata (offline host): fall through to what an earlier build downloaded.
  }
  const cached = (await readdir(cacheDir).catch(() => []))
    .filter((f) => /^linux-image-.*-cloud-amd64_.*\.deb$/.test(f))
    .sort();
  const last = cached.at(-1);
  if (last) return last.slice(0, last.indexOf("_"));
  throw new BuildError(
    "kernel_unavailable",
    `apt knows no ${META_PACKAGE} and nothing is cached`,
    "run apt-get update (the host needs its Debian mirror once)",
  );
}

/** Downloads a package's .deb into the kernel cache unless it is already there; returns the file name. */
async function downloadDeb(pkg: string, layout: HostLayout, onLine: (l: string) => void): Promise<string> {
  const isPkgFile = (f: string) => f.startsWith(`${pkg}_`) && f.endsWith(".deb");
  await mkdir(layout.kernelCacheDir, { recursive: true });
  const have = (await readdir(layout.kernelCacheDir)).filter(isPkgFile).sort().at(-1);
  if (have) return have;
  return withScratchDir(layout.scratchDir, "kernel-dl", async (dir) => {
    await runCommand("apt-get", ["download", "-q", "-o", "APT::Sandbox::User=root", pkg], {
      cwd: dir,
      onLine,
      timeoutMs: 10 * 60_000,
      hint: "check the host's apt sources and network (apt-get update)",
    });
    const file = (await readdir(dir)).find(isPkgFile);
    if (!file) throw new BuildError("kernel_unavailable", `apt-get download ${pkg} produced no .deb`);
    await rename(join(dir, file), join(layout.kernelCacheDir, file));
    return file;
  });
}
