import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { errors } from "../errors.ts";

/** The part of @lydell/node-pty envd uses. */
export type PtyModule = typeof import("@lydell/node-pty");

let cached: PtyModule | undefined;

/**
 * Loads the PTY addon. Native addons cannot live inside the single executable, so the packaged envd
 * loads it from a sidecar folder holding `node_modules/@lydell/node-pty*`: `$ENVD_NATIVE_DIR`,
 * `<dir of the executable>/../lib/envd` (the guest image layout) or `<dir of the executable>/envd-native`
 * (the `builds/` layout). In dev it comes from the workspace's node_modules.
 */
export function loadPty(nativeDir = process.env.ENVD_NATIVE_DIR): PtyModule {
  if (cached) return cached;
  const exeDir = dirname(process.execPath);
  const candidates = [nativeDir, join(exeDir, "..", "lib", "envd"), join(exeDir, "envd-native")];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "node_modules", "@lydell", "node-pty"))) {
      cached = createRequire(join(dir, "index.js"))("@lydell/node-pty") as PtyModule;
      return cached;
    }
  }
  try {
    cached = createRequire(import.meta.url)("@lydell/node-pty") as PtyModule;
    return cached;
  } catch (err) {
    throw Object.assign(errors.failedPrecondition("PTY support is not installed (no @lydell/node-pty sidecar)"), {
      cause: err,
    });
  }
}
