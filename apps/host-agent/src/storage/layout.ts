/**
 * Where everything lives under AGENT_FILES_ROOTDIR (docs/architecture.md "Files on a host"). The only module that
 * knows file names; everything else asks it.
 */
import { join } from "node:path";

/** Paths of one host root. */
export interface HostLayout {
  readonly root: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelRelease: string;
  readonly hostToken: string;
  readonly sandboxesDir: string;
  readonly templatesDir: string;
  readonly snapshotsDir: string;
  readonly teamTemplatesDir: string;
  image(template: string): { readonly rootfs: string; readonly manifest: string };
  /** Warm template state of one (template, vcpus, memory) key. */
  template(key: string): {
    readonly dir: string;
    readonly disk: string;
    readonly state: string;
    readonly memory: string;
    readonly meta: string;
  };
  /** Everything one capsule (or pooled clone) owns. */
  sandbox(id: string): {
    readonly dir: string;
    readonly overlay: string;
    /** RAM image of a resumed capsule, mapped privately by its QEMU (moved here from snapshots/<id>/memory). */
    readonly memory: string;
    readonly record: string;
  };
  /** Pause state of one paused capsule: RAM + device state, its disk overlay, its record. */
  snapshot(id: string): SnapshotPaths;
  /** A template made from a capsule (POST /v1/snapshots). */
  teamTemplate(teamId: string, name: string): TeamTemplatePaths;
}

/** Files of one paused capsule (snapshots/<id>/). */
export interface SnapshotPaths {
  readonly dir: string;
  /**
   * Device state; written as `state.bin.tmp` and renamed last, so its presence means the pause is complete. With a
   * `memory` file beside it, it holds device state only (`saveSplit`); without, it is a migration stream with all
   * guest RAM (the form of earlier agents, still resumable).
   */
  readonly state: string;
  readonly stateTmp: string;
  /** Sparse RAM image that a resume maps as the VM's memory file; written as `memory.tmp`. */
  readonly memory: string;
  readonly memoryTmp: string;
  /** The capsule's qcow2 overlay, moved here while paused. */
  readonly disk: string;
  readonly record: string;
}

/** Files of one team template (team-templates/<team>/<name>/). */
export interface TeamTemplatePaths {
  readonly dir: string;
  /** snapshot.json: the manifest; written last, its presence means "complete". */
  readonly manifest: string;
  /** Frozen copy of the source capsule's overlay (backed by its base template's disk). */
  readonly disk: string;
  /** Full-RAM pause state of the source capsule, kept until converted to the copy-on-write form. */
  readonly state: string;
  /** Copy-on-write form: guest RAM in a file clones map privately, and device state saved with x-ignore-shared. */
  readonly memory: string;
  readonly cowState: string;
}

/** Capsule ids and template names become folder names: only a safe alphabet. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Creates the layout of `root`. */
export function hostLayout(root: string): HostLayout {
  const sandboxesDir = join(root, "sandboxes");
  const templatesDir = join(root, "templates");
  const snapshotsDir = join(root, "snapshots");
  const teamTemplatesDir = join(root, "team-templates");
  return {
    root,
    kernel: join(root, "kernels", "vmlinuz"),
    initrd: join(root, "kernels", "initrd.img"),
    kernelRelease: join(root, "kernels", "release"),
    hostToken: join(root, "host-token"),
    sandboxesDir,
    templatesDir,
    snapshotsDir,
    teamTemplatesDir,
    image: (template) => ({
      rootfs: join(root, "images", template, "rootfs.ext4"),
      manifest: join(root, "images", template, "manifest.json"),
    }),
    template: (key) => {
      const dir = join(templatesDir, key);
      return {
        dir,
        disk: join(dir, "disk.qcow2"),
        state: join(dir, "state.bin"),
        memory: join(dir, "memory"),
        meta: join(dir, "template.json"),
      };
    },
    sandbox: (id) => {
      const dir = join(sandboxesDir, id);
      return {
        dir,
        overlay: join(dir, "overlay.qcow2"),
        memory: join(dir, "memory"),
        record: join(dir, "capsule.json"),
      };
    },
    snapshot: (id) => {
      const dir = join(snapshotsDir, id);
      return {
        dir,
        state: join(dir, "state.bin"),
        stateTmp: join(dir, "state.bin.tmp"),
        memory: join(dir, "memory"),
        memoryTmp: join(dir, "memory.tmp"),
        disk: join(dir, "disk.qcow2"),
        record: join(dir, "capsule.json"),
      };
    },
    teamTemplate: (teamId, name) => {
      const dir = join(teamTemplatesDir, teamId, name);
      return {
        dir,
        manifest: join(dir, "snapshot.json"),
        disk: join(dir, "disk.qcow2"),
        state: join(dir, "state.bin"),
        memory: join(dir, "memory"),
        cowState: join(dir, "cow-state.bin"),
      };
    },
  };
}
