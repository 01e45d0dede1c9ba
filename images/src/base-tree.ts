import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { hostMirror } from "./apt-mirror.ts";
import { allExist, withScratchDir } from "./fs-atomic.ts";
import type { HostLayout } from "./host-layout.ts";
import type { Progress } from "./progress.ts";
import { recipeHash } from "./recipe-hash.ts";
import { runCommand } from "./run-command.ts";
import { BASE_RECIPE } from "./templates.ts";
import { packTree, scrubTree } from "./tree-tarball.ts";

/** Bump when the way the base tree is made changes in a way BASE_RECIPE does not capture. */
const BASE_TREE_VERSION = 1;

/** A cached root filesystem tree: its tarball and the recipe hash it was made from. */
export interface CachedTree {
  tarball: string;
  hash: string;
}

/**
 * Makes sure the debootstrap base tree (Debian minbase + BASE_RECIPE.include) is cached as a tarball
 * named by its recipe hash, running debootstrap (~1–2 min) only when no such tarball exists or `force`.
 * The mirror is not part of the hash: any mirror serves the same suite.
 */
export async function ensureBaseTree(layout: HostLayout, progress: Progress, force: boolean): Promise<CachedTree> {
  const hash = recipeHash({ v: BASE_TREE_VERSION, ...BASE_RECIPE });
  const tarball = join(layout.treeCacheDir, `base-${hash.slice(0, 16)}.tar.zst`);
  if (!force && (await allExist([tarball]))) {
    progress.info(`= base tree: cached (${tarball})`);
    return { tarball, hash };
  }
  const mirror = await hostMirror(BASE_RECIPE.suite);
  progress.info(`base tree: no cached ${tarball}; debootstrap from ${mirror} (1–3 min)`);
  await progress.step(`base tree: debootstrap ${BASE_RECIPE.variant} ${BASE_RECIPE.suite}`, (s) =>
    withScratchDir(layout.scratchDir, "base", async (dir) => {
      const tree = join(dir, "tree");
      await runCommand(
        "debootstrap",
        [
          `--variant=${BASE_RECIPE.variant}`,
          `--include=${BASE_RECIPE.include.join(",")}`,
          BASE_RECIPE.suite,
          tree,
          mirror,
        ],
        {
          onLine: (l) => s.tick(l),
          timeoutMs: 20 * 60_000,
          hint: "apt-get install -y debootstrap; check the host reaches its Debian mirror",
        },
      );
      await scrubTree(tree);
      s.tick("packing the tree");
      await mkdir(layout.treeCacheDir, { recursive: true });
      await packTree(tree, tarball);
      s.note(`cached as ${tarball}`);
    }),
  );
  return { tarball, hash };
}
