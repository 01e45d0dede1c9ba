import { lstat, readdir, realpath, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ignoreMissing } from "./fs-atomic.ts";
import type { HostLayout } from "./host-layout.ts";
import { openFilePaths } from "./open-files.ts";
import type { Progress } from "./progress.ts";
import { findBackingFiles } from "./qcow2-backing.ts";

/** The only names pruning may delete: one build's own file, rootfs-<16 hex digits of its recipe hash>.ext4. */
const VERSION_NAME = /^rootfs-[0-9a-f]{16}\.ext4$/;
const HOUR_MS = 60 * 60 * 1000;
const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** Options for {@link pruneImageVersions}. */
export interface PruneOptions {
  /** images/<template>/: the rootfs.ext4 link and the versions beside it. */
  imageDir: string;
  /** Files roots whose `*.qcow2` files (warm templates, capsules, snapshots) may name a version as backing file. */
  overlayRoots: readonly string[];
  /** How long the newest superseded version is kept even when nothing seems to use it, in ms. Default 24 h. */
  graceMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Paths that processes hold open. Default: {@link openFilePaths} over /proc. */
  openFiles?: () => Promise<Set<string>>;
}

/** Why a superseded version was kept. */
export type KeepReason = "open" | "backing" | "grace";

/** What {@link pruneImageVersions} did. */
export interface PruneResult {
  /** Versions this call deleted. */
  removed: string[];
  /** Disk space they took (allocated blocks, not apparent size), in bytes. */
  freedBytes: number;
  /** Superseded versions left in place. */
  kept: { path: string; reason: KeepReason }[];
}

/**
 * Deletes the superseded versions of one template image that nothing can still need. A version is kept while a
 * process holds it open (a running QEMU), while a qcow2 under `overlayRoots` names it as backing file (a warm
 * template, a capsule, a pause), and, for the newest superseded one only, until `graceMs` after it was superseded:
 * roots we cannot scan (a test's root in /tmp linking this images folder) get a day to stop using it.
 * Touches nothing when rootfs.ext4 is not a link, since then the current version is unknown.
 */
export async function pruneImageVersions(opts: PruneOptions): Promise<PruneResult> {
  const result: PruneResult = { removed: [], freedBytes: 0, kept: [] };
  const link = join(opts.imageDir, "rootfs.ext4");
  const linkStat = await lstat(link).catch(ignoreMissing);
  if (!linkStat?.isSymbolicLink()) return result;
  const current = await realpath(link).catch(ignoreMissing);
  if (!current) return result;

  const candidates: { path: string; real: string; mtimeMs: number; bytes: number }[] = [];
  for (const name of await readdir(opts.imageDir)) {
    if (!VERSION_NAME.test(name)) continue;
    const path = join(opts.imageDir, name);
    const st = await lstat(path).catch(ignoreMissing);
    const real = st?.isFile() ? await realpath(path).catch(ignoreMissing) : undefined;
    if (st && real && real !== current) candidates.push({ path, real, mtimeMs: st.mtimeMs, bytes: st.blocks * 512 });
  }
  if (candidates.length === 0) return result;

  const open = await (opts.openFiles ?? openFilePaths)();
  const backing = await findBackingFiles(opts.overlayRoots);
  const newest = candidates.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  // ensureImage renames a fresh link over rootfs.ext4 as a build finishes, so the link's own mtime is when the
  // newest old version stopped being current; its file's mtime is only when it was built.
  const supersededAt = Math.max(newest.mtimeMs, linkStat.mtimeMs);
  const isInGrace = (opts.now ?? Date.now)() - supersededAt < (opts.graceMs ?? 24 * HOUR_MS);

  const keepReason = (c: (typeof candidates)[number]): KeepReason | undefined => {
    if (open.has(c.real) || open.has(c.path)) return "open";
    if (backing.has(c.real) || backing.has(c.path)) return "backing";
    return c === newest && isInGrace ? "grace" : undefined;
  };

  for (const c of candidates) {
    const reason = keepReason(c);
    if (reason) {
      result.kept.push({ path: c.path, reason });
      continue;
    }
    // Another build sharing this images folder (a linked test root) may have pruned it first.
    const isGone = await unlink(c.path).then(() => true, ignoreMissing);
    if (!isGone) continue;
    result.removed.push(c.path);
    result.freedBytes += c.bytes;
  }
  return result;
}

/**
 * The files roots whose overlays may use the images of `layout`: the builder's root, the agent's root when
 * `agentRootDir` (AGENT_FILES_ROOTDIR) names another, and the root that really holds `template`'s image folder
 * when it is a link into another root.
 */
export async function overlayRootsFor(
  layout: HostLayout,
  template: string,
  agentRootDir: string | undefined,
): Promise<string[]> {
  const roots = [layout.root, ...(agentRootDir ? [agentRootDir] : [])];
  const realImageDir = await realpath(layout.imageDir(template)).catch(ignoreMissing);
  if (realImageDir) roots.push(dirname(dirname(realImageDir)));
  const unique = new Set<string>();
  for (const root of roots) unique.add((await realpath(root).catch(ignoreMissing)) ?? resolve(root));
  return [...unique];
}

/**
 * Prunes `template`'s superseded image versions and reports it on `progress`. Best effort: a failure is reported
 * as a warning and never fails the build, since leaving old versions behind only costs disk space.
 */
export async function pruneOldImages(
  template: string,
  layout: HostLayout,
  progress: Progress,
  agentRootDir: string | undefined,
): Promise<PruneResult | undefined> {
  try {
    const overlayRoots = await overlayRootsFor(layout, template, agentRootDir);
    const result = await pruneImageVersions({ imageDir: layout.imageDir(template), overlayRoots });
    const n = result.removed.length;
    const kept = result.kept.length > 0 ? `; kept ${result.kept.length} still in use or recent` : "";
    if (n > 0)
      progress.info(
        `pruned ${n} old ${template} image version${n === 1 ? "" : "s"} (${size(result.freedBytes)})${kept}`,
      );
    return result;
  } catch (err) {
    progress.info(`! ${template} image: pruning old versions failed, all kept: ${(err as Error).message ?? err}`);
    return undefined;
  }
}

function size(bytes: number): string {
  return bytes >= GIB ? `${(bytes / GIB).toFixed(1)} GiB` : `${(bytes / MIB).toFixed(0)} MiB`;
}
