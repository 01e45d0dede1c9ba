import { chmod, copyFile, cp, mkdir, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { CachedTree } from "./base-tree.ts";
import type { EnvdArtifact } from "./envd-artifact.ts";
import { allExist, withScratchDir, writeFileAtomic } from "./fs-atomic.ts";
import { GUEST_DIR, readGuestFile } from "./guest-files.ts";
import type { HostLayout } from "./host-layout.ts";
import { type ImageManifest, readJson, renderManifest } from "./manifest.ts";
import type { Progress } from "./progress.ts";
import { recipeHash } from "./recipe-hash.ts";
import type { ReseedHelper } from "./reseed-helper.ts";
import { runCommand } from "./run-command.ts";
import type { SpawnerHelper } from "./spawner-helper.ts";
import type { TemplateName } from "./templates.ts";
import { unpackTree } from "./tree-tarball.ts";

/** Bump when the final assembly (files written below, mkfs options, sizing) changes. */
const ASSEMBLY_VERSION = 2;
const MIB = 1024 * 1024;
/** Smallest apparent image size; capsules write into qcow2 overlays over it, so free space is headroom. */
const MIN_IMAGE_BYTES = 2048 * MIB;

/** Everything besides the tree that goes into a template image. */
export interface ImageInputs {
  kernelRelease: string;
  envd: EnvdArtifact;
  reseed: ReseedHelper;
  spawner: SpawnerHelper;
}

/** Picks the ext4 size for a tree of `treeBytes`: room to grow, at least 2 GiB, in 256 MiB steps. */
export function imageSizeBytes(treeBytes: number): number {
  const wanted = treeBytes * 1.3 + 1024 * MIB;
  return Math.max(MIN_IMAGE_BYTES, Math.ceil(wanted / (256 * MIB)) * 256 * MIB);
}

/**
 * Makes sure images/<name>/rootfs.ext4 and manifest.json match the recipe: unpack the template's
 * tree, add envd, wrenn-init, wrenn-reseed and wrenn-spawner, make a journal-less ext4 from it, mark it read-only,
 * and move it into place. Skipped when the manifest already carries the same recipe hash.
 */
export async function ensureImage(
  name: TemplateName,
  tree: CachedTree,
  inputs: ImageInputs,
  layout: HostLayout,
  progress: Progress,
  force: boolean,
): Promise<ImageManifest> {
  const wrennInit = await readGuestFile("wrenn-init.sh");
  const hash = recipeHash({
    v: ASSEMBLY_VERSION,
    tree: tree.hash,
    kernelRelease: inputs.kernelRelease,
    envd: inputs.envd.sha256,
    envdNative: inputs.envd.nativeSha256 ?? null,
    wrennInit,
    reseed: inputs.reseed.sourceSha256,
    spawner: inputs.spawner.sourceSha256,
  });
  const current = await readJson<ImageManifest>(layout.manifest(name));
  if (!force && current?.recipe_hash === hash && (await allExist([layout.rootfs(name)]))) {
    progress.info(`= ${name} image: up to date (${(current.size_bytes / MIB).toFixed(0)} MiB)`);
    return current;
  }
  const tarball = await tree.tarball();
  return progress.step(`${name}: assemble rootfs.ext4`, (s) =>
    withScratchDir(layout.scratchDir, `${name}-image`, async (dir) => {
      const root = join(dir, "tree");
      s.tick("unpacking the tree");
      await unpackTree(tarball, root);
      s.tick("installing envd, wrenn-init, wrenn-reseed, wrenn-spawner");
      await installGuestFiles(root, name, hash, inputs);
      const { stdout } = await runCommand("du", ["-s", "-B1", root]);
      const treeBytes = Number(stdout.split("\t")[0]);
      const sizeBytes = imageSizeBytes(treeBytes);
      const img = join(dir, "rootfs.ext4");
      s.tick(`mkfs.ext4 ${sizeBytes / MIB} MiB from ${(treeBytes / MIB).toFixed(0)} MiB of files`);
      await runCommand(
        "mkfs.ext4",
        ["-q", "-F", "-O", "^has_journal", "-m", "0", "-L", `wrenn-${name}`, "-d", root, img, `${sizeBytes / MIB}M`],
        {
          timeoutMs: 10 * 60_000,
          hint: "apt-get install -y e2fsprogs (mkfs.ext4 -d needs e2fsprogs >= 1.43)",
        },
      );
      await chmod(img, 0o444);
      await mkdir(layout.imageDir(name), { recursive: true });
      // Each build gets its own file (rootfs-<hash>.ext4) and rootfs.ext4 becomes a link to it. qcow2
      // overlays of warm templates and paused capsules name their backing file by its real path, so a
      // rebuild never changes the bytes under them; old versions stay until nothing refers to them (build-images.ts
      // prunes them).
      const versioned = join(layout.imageDir(name), `rootfs-${hash.slice(0, 16)}.ext4`);
      await rename(img, versioned);
      const link = join(dir, "rootfs.ext4.link");
      await symlink(basename(versioned), link);
      await rename(link, layout.rootfs(name));
      const manifest: ImageManifest = {
        name,
        recipe_hash: hash,
        kernel_release: inputs.kernelRelease,
        envd_sha256: inputs.envd.sha256,
        size_bytes: (await stat(layout.rootfs(name))).size,
        built_at: new Date().toISOString(),
      };
      await writeFileAtomic(layout.manifest(name), renderManifest(manifest));
      s.note(`${(treeBytes / MIB).toFixed(0)} MiB of files in a ${sizeBytes / MIB} MiB image`);
      return manifest;
    }),
  );
}

const HOSTS =
  "127.0.0.1\tlocalhost\n127.0.1.1\tcapsule\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

async function installGuestFiles(root: string, name: TemplateName, hash: string, inputs: ImageInputs): Promise<void> {
  const bin = join(root, "usr/local/bin");
  await mkdir(bin, { recursive: true });
  await copyFile(inputs.envd.binary, join(bin, "envd"));
  await chmod(join(bin, "envd"), 0o755);
  const lib = join(root, "usr/local/lib/envd");
  await rm(lib, { recursive: true, force: true });
  if (inputs.envd.nativeDir) await cp(inputs.envd.nativeDir, lib, { recursive: true });
  await copyFile(inputs.reseed.path, join(bin, "wrenn-reseed"));
  await chmod(join(bin, "wrenn-reseed"), 0o755);
  // envd's default spawner path (DEFAULT_SPAWNER in apps/envd/src/config.ts).
  await copyFile(inputs.spawner.path, join(bin, "wrenn-spawner"));
  await chmod(join(bin, "wrenn-spawner"), 0o755);
  await copyFile(join(GUEST_DIR, "wrenn-init.sh"), join(root, "sbin/wrenn-init"));
  await chmod(join(root, "sbin/wrenn-init"), 0o755);
  await writeFile(join(root, "etc/hostname"), "capsule\n");
  await writeFile(join(root, "etc/hosts"), HOSTS);
  // QEMU user networking's DNS; wrenn-init rewrites it at boot (wrenn.dns=).
  await rm(join(root, "etc/resolv.conf"), { force: true });
  await writeFile(join(root, "etc/resolv.conf"), "nameserver 10.0.2.3\n");
  await writeFile(
    join(root, "etc/wrenn-release"),
    `template=${name}\nrecipe_hash=${hash}\nkernel_release=${inputs.kernelRelease}\nenvd_sha256=${inputs.envd.sha256}\n`,
  );
  // The unprivileged account E2B-style SDKs ask for ("user"); root stays the default user.
  const hasUser = await runCommand("chroot", [root, "id", "-u", "user"]).then(
    () => true,
    () => false,
  );
  if (!hasUser)
    await runCommand("chroot", [root, "useradd", "--create-home", "--uid", "1000", "--shell", "/bin/bash", "user"]);
}
