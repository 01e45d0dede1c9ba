import { mkdir, rename, rm } from "node:fs/promises";
import { runCommand } from "./run-command.ts";

const TAR_HINT = "apt-get install -y tar zstd";

/**
 * Packs a root filesystem tree into a zstd tarball, keeping owners (numerically), modes, device
 * nodes and xattrs (file capabilities, e.g. ping). Writes a sibling temp file and renames it, so a
 * cache entry is either complete or absent.
 */
export async function packTree(tree: string, tarball: string): Promise<void> {
  const tmp = `${tarball}.tmp-${process.pid}`;
  try {
    await runCommand(
      "tar",
      ["--zstd", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", tree, "-cpf", tmp, "."],
      { hint: TAR_HINT },
    );
    await rename(tmp, tarball);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Unpacks a tarball made by {@link packTree} into `dest` (created if needed). */
export async function unpackTree(tarball: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await runCommand(
    "tar",
    ["--zstd", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", dest, "-xpf", tarball],
    { hint: TAR_HINT },
  );
}

/**
 * Removes what an image should not carry: downloaded .debs, apt package lists and caches, logs of
 * the build. Run on every tree before it is cached or turned into an image.
 */
export async function scrubTree(tree: string): Promise<void> {
  await runCommand("sh", [
    "-ec",
    'cd "$1"; rm -rf var/cache/apt/*.bin var/cache/apt/archives/*.deb var/cache/apt/archives/partial/* var/lib/apt/lists/* var/cache/debconf/*-old var/log/apt/* var/log/dpkg.log var/log/bootstrap.log root/.cache',
    "scrub",
    tree,
  ]);
}
