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

/**
 * A root filesystem tree known by its recipe hash; its tarball is made (or found in the cache) only when something
 * asks for it. Why: the hash alone tells whether an image is up to date, so a files root whose images are current
 * but whose tree cache is empty (a fresh `AGENT_FILES_ROOTDIR` linking shared images, a cleared cache) no longer
 * spends minutes on debootstrap and apt just to find that out.
 */
export interface CachedTree {
  readonly hash: string;
  /** The tarball's path, built on the first call (later calls share the same promise). */
  tarball(): Promise<string>;
}

/** A `CachedTree` whose `make` runs at most once, when the tarball is first asked for. */
export function lazyTree(hash: string, make: () => Promise<string>): CachedTree {
  let made: Promise<string> | undefined;
  return {
    hash,
    tarball: () => {
      made ??= make();
      return made;
    },
  };
}

/**
 * Makes sure the debootstrap base tree (Debian minbase + BASE_RECIPE.include) is cached as a tarball
 * named by its recipe hash, running debootstrap (~1–2 min) only when the tarball is asked for and no such tarball
 * exists, or `force`.
 * The mirror is not part of the hash: any mirror serves the same suite.
 */
export function baseTree(layout: HostLayout, progress: Progress, force: boolean): CachedTree {
  const hash = recipeHash({ v: BASE_TREE_VERSION, ...BASE_RECIPE });
  return lazyTree(hash, () => makeBaseTree(layout, progress, force, hash));
}

async function makeBaseTree(layout: HostLayout, progress: Progress, force: boolean, hash: string): Promise<string> {
  const tarball = join(layout.treeCacheDir, `base-${hash.slice(0, 16)}.tar.zst`);
  if (!force && (await allExist([tarball]))) {
    progress.info(`= base tree: cached (${tarball})`);
    return tarball;
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
  return tarball;
}
