import { join } from "node:path";

/**
 * Where the builder reads and writes under the host files root (docs/architecture.md, "Files on a host").
 * `kernels/` and `images/` are the contract with the agent; `cache/` is the builder's own.
 */
export interface HostLayout {
  root: string;
  kernelsDir: string;
  vmlinuz: string;
  initrd: string;
  release: string;
  /** The builder's record of what kernels/ was built from (not read by the agent). */
  kernelManifest: string;
  /** Downloaded kernel .deb files. */
  kernelCacheDir: string;
  /** debootstrap base and per-template package layers, as tarballs named by recipe hash. */
  treeCacheDir: string;
  /** Scratch folders of running builds (same filesystem as the outputs so results can be renamed in). */
  scratchDir: string;
  imageDir(template: string): string;
  rootfs(template: string): string;
  manifest(template: string): string;
}

/** Computes the {@link HostLayout} of a host files root. */
export function hostLayout(root: string): HostLayout {
  const kernelsDir = join(root, "kernels");
  const cache = join(root, "cache", "images");
  return {
    root,
    kernelsDir,
    vmlinuz: join(kernelsDir, "vmlinuz"),
    initrd: join(kernelsDir, "initrd.img"),
    release: join(kernelsDir, "release"),
    kernelManifest: join(kernelsDir, "manifest.json"),
    kernelCacheDir: join(cache, "kernel"),
    treeCacheDir: join(cache, "trees"),
    scratchDir: join(cache, "scratch"),
    imageDir: (t) => join(root, "images", t),
    rootfs: (t) => join(root, "images", t, "rootfs.ext4"),
    manifest: (t) => join(root, "images", t, "manifest.json"),
  };
}
