/**
 * Identity of a warm template. The key names its folder (one per template × vcpus × memory); the fingerprint
 * decides whether saved state can be reused: it changes with the image, the kernel, the VMM and our command line.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { CMDLINE_VERSION } from "../vmm/qemu/cmdline.ts";

/** What a warm template is made of. */
export interface TemplateShape {
  readonly template: string;
  readonly vcpus: number;
  readonly memoryMb: number;
}

/** Folder name of a warm template. */
export function templateKey(shape: TemplateShape): string {
  return `${shape.template}-${shape.vcpus}c-${shape.memoryMb}m`;
}

/** Inputs of the fingerprint. */
export interface FingerprintInputs {
  readonly imageManifest: string;
  readonly imageRootfs: string;
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly vmmVersion: string;
  readonly accelerator: string;
  readonly kernelArgs: string;
}

/** Hash of everything a saved template depends on. Files are identified by manifest text, or size+mtime. */
export async function templateFingerprint(i: FingerprintInputs): Promise<string> {
  const h = createHash("sha256");
  const fileId = async (path: string | undefined) => {
    if (!path) return "none";
    const s = await stat(path).catch(() => undefined);
    return s ? `${path}:${s.size}:${s.mtimeMs}` : `${path}:missing`;
  };
  const manifest = await readFile(i.imageManifest, "utf8").catch(() => "");
  for (const part of [
    `cmdline-v${CMDLINE_VERSION}`,
    manifest,
    await fileId(i.imageRootfs),
    await fileId(i.kernel),
    await fileId(i.initrd),
    i.vmmVersion,
    i.accelerator,
    i.kernelArgs,
  ]) {
    h.update(part);
    h.update("\0");
  }
  return h.digest("hex");
}
