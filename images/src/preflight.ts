import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { BuildError } from "./build-error.ts";

/** Host programs the build runs, with the Debian package that provides each. */
export const REQUIRED_TOOLS: Readonly<Record<string, string>> = {
  debootstrap: "debootstrap",
  "mkfs.ext4": "e2fsprogs",
  gcc: "gcc libc6-dev",
  tar: "tar",
  zstd: "zstd",
  xz: "xz-utils",
  "dpkg-deb": "dpkg",
  "apt-get": "apt",
  "apt-cache": "apt",
  chroot: "coreutils",
  du: "coreutils",
};

/** Returns the tools from `tools` that are not on `PATH` (checked without running anything). */
export async function missingTools(tools: readonly string[], path = process.env.PATH ?? ""): Promise<string[]> {
  const dirs = [...path.split(delimiter), "/usr/sbin", "/sbin"].filter(Boolean);
  const missing: string[] = [];
  for (const tool of tools) {
    let found = false;
    for (const dir of dirs) {
      if (
        await access(join(dir, tool), constants.X_OK).then(
          () => true,
          () => false,
        )
      ) {
        found = true;
        break;
      }
    }
    if (!found) missing.push(tool);
  }
  return missing;
}

/**
 * Fails early, before any slow step, when the build cannot succeed: not root (debootstrap, chroot
 * and device nodes need it) or host tools missing (the hint lists the apt-get line that fixes it).
 */
export async function preflight(uid: number | undefined = process.getuid?.()): Promise<void> {
  if (uid !== 0)
    throw new BuildError(
      "not_root",
      "building images needs root (debootstrap, chroot, mkfs of a tree with device nodes)",
      "rerun with sudo: sudo node --import tsx images/build.ts",
    );
  const missing = await missingTools(Object.keys(REQUIRED_TOOLS));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => REQUIRED_TOOLS[t]))].join(" ");
    throw new BuildError(
      "missing_tool",
      `missing host tools: ${missing.join(", ")}`,
      `apt-get install -y ${packages} busybox-static`,
    );
  }
}
