import { rm } from "node:fs/promises";
import { join } from "node:path";
import { baseTree } from "./base-tree.ts";
import { acquireBuildLock } from "./build-lock.ts";
import type { BuildOptions } from "./build-options.ts";
import { locateEnvd } from "./envd-artifact.ts";
import { type HostLayout, hostLayout } from "./host-layout.ts";
import { ensureKernel } from "./kernel.ts";
import type { ImageManifest } from "./manifest.ts";
import { preflight } from "./preflight.ts";
import type { Progress } from "./progress.ts";
import { pruneOldImages } from "./prune-images.ts";
import { compileReseedHelper } from "./reseed-helper.ts";
import { ensureImage } from "./rootfs-image.ts";
import { compileSpawnerHelper } from "./spawner-helper.ts";
import { templateTree } from "./template-tree.ts";
import { TEMPLATES } from "./templates.ts";

/** What a build produced: the kernel release and one manifest per requested template. */
export interface BuildResult {
  kernelRelease: string;
  images: ImageManifest[];
}

/**
 * Builds (or confirms up to date) the kernel and the requested templates under `opts.rootDir`.
 * Order: cheap checks first (root, tools, envd), then kernel, debootstrap base, per-template
 * package layers, final images. Every stage is cached by its recipe hash.
 */
export async function buildImages(opts: BuildOptions, repoRoot: string, progress: Progress): Promise<BuildResult> {
  await preflight();
  const layout = hostLayout(opts.rootDir);
  const lock = await acquireBuildLock(join(layout.root, "cache", "images", "build.lock"));
  try {
    // Scratch folders left by a build that was killed (the lock proves none is running now).
    await rm(layout.scratchDir, { recursive: true, force: true });
    return await buildUnderLock(opts, layout, repoRoot, progress);
  } finally {
    await lock.release();
  }
}

async function buildUnderLock(
  opts: BuildOptions,
  layout: HostLayout,
  repoRoot: string,
  progress: Progress,
): Promise<BuildResult> {
  progress.info(`root ${layout.root}, templates ${opts.only.join(", ")}${opts.force ? " (forced)" : ""}`);
  const envd = await locateEnvd(repoRoot, opts.envdDir, progress);
  const helperBin = join(layout.root, "cache", "images", "bin");
  const reseed = await compileReseedHelper(helperBin, layout.scratchDir);
  const spawner = await compileSpawnerHelper(helperBin, layout.scratchDir);
  const kernelRelease = await ensureKernel(layout, progress, opts.force);
  // Trees are made only if an image needs rebuilding; their hashes alone tell whether one does.
  const base = baseTree(layout, progress, opts.forceBase);
  const images: ImageManifest[] = [];
  for (const name of opts.only) {
    const tree = templateTree(TEMPLATES[name], base, layout, progress, opts.force);
    images.push(await ensureImage(name, tree, { kernelRelease, envd, reseed, spawner }, layout, progress, opts.force));
    // Built or up to date, the versions it superseded (now or in an earlier run) go once nothing uses them.
    await pruneOldImages(name, layout, progress, opts.agentRootDir);
  }
  return { kernelRelease, images };
}
