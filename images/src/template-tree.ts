import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type CachedTree, lazyTree } from "./base-tree.ts";
import { allExist, withScratchDir } from "./fs-atomic.ts";
import type { HostLayout } from "./host-layout.ts";
import type { Progress } from "./progress.ts";
import { recipeHash } from "./recipe-hash.ts";
import { runCommand } from "./run-command.ts";
import type { TemplateRecipe } from "./templates.ts";
import { packTree, scrubTree, unpackTree } from "./tree-tarball.ts";

/** Bump when the way package layers are installed changes in a way the recipe does not capture. */
const LAYER_VERSION = 1;

/**
 * Makes sure a template's package layer (base tree + `chroot apt-get install` of its packages) is
 * cached as a tarball named by its hash, so that a new envd or wrenn-init only redoes the final image
 * assembly. A template without packages is the base tree itself.
 */
export function templateTree(
  recipe: TemplateRecipe,
  base: CachedTree,
  layout: HostLayout,
  progress: Progress,
  force: boolean,
): CachedTree {
  if (recipe.packages.length === 0 && !recipe.postInstall) return base;
  const hash = recipeHash({
    v: LAYER_VERSION,
    base: base.hash,
    packages: recipe.packages,
    postInstall: recipe.postInstall,
  });
  return lazyTree(hash, () => makeTemplateTree(recipe, base, layout, progress, force, hash));
}

async function makeTemplateTree(
  recipe: TemplateRecipe,
  base: CachedTree,
  layout: HostLayout,
  progress: Progress,
  force: boolean,
  hash: string,
): Promise<string> {
  const tarball = join(layout.treeCacheDir, `${recipe.name}-${hash.slice(0, 16)}.tar.zst`);
  if (!force && (await allExist([tarball]))) {
    progress.info(`= ${recipe.name} packages: cached`);
    return tarball;
  }
  const baseTarball = await base.tarball();
  await progress.step(`${recipe.name}: apt-get install ${recipe.packages.join(" ")}`, (s) =>
    withScratchDir(layout.scratchDir, recipe.name, async (dir) => {
      const tree = join(dir, "tree");
      await unpackTree(baseTarball, tree);
      // The chroot resolves the mirror's name with the host's resolver configuration.
      await copyFile("/etc/resolv.conf", join(tree, "etc/resolv.conf")).catch(() => undefined);
      const env = {
        ...process.env,
        DEBIAN_FRONTEND: "noninteractive",
        LC_ALL: "C.UTF-8",
        PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      };
      const chroot = (args: string[], timeoutMs: number) =>
        runCommand("chroot", [tree, ...args], {
          env,
          onLine: (l) => s.tick(l),
          timeoutMs,
          hint: "check the host reaches its Debian mirror (apt-get update on the host)",
        });
      await chroot(["apt-get", "update", "-q"], 10 * 60_000);
      // No fsync per unpacked file: the tree is scratch that gets tarred, and npm alone is ~350 packages.
      const unsafeIo = ["-o", "Dpkg::Options::=--force-unsafe-io"];
      await chroot(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", ...unsafeIo, ...recipe.packages],
        15 * 60_000,
      );
      if (recipe.postInstall) await chroot(["/bin/sh", "-ec", recipe.postInstall], 5 * 60_000);
      await chroot(["apt-get", "clean"], 60_000);
      await scrubTree(tree);
      s.tick("packing the tree");
      await mkdir(layout.treeCacheDir, { recursive: true });
      await packTree(tree, tarball);
    }),
  );
  return tarball;
}
