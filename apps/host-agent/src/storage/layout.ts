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
  sandbox(id: string): { readonly dir: string; readonly overlay: string; readonly record: string };
}

/** Capsule ids and template names become folder names: only a safe alphabet. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Creates the layout of `root`. */
export function hostLayout(root: string): HostLayout {
  const sandboxesDir = join(root, "sandboxes");
  const templatesDir = join(root, "templates");
  return {
    root,
    kernel: join(root, "kernels", "vmlinuz"),
    initrd: join(root, "kernels", "initrd.img"),
    kernelRelease: join(root, "kernels", "release"),
    hostToken: join(root, "host-token"),
    sandboxesDir,
    templatesDir,
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
      return { dir, overlay: join(dir, "overlay.qcow2"), record: join(dir, "capsule.json") };
    },
  };
}
