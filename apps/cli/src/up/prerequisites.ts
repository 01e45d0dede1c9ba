/**
 * Checks what `wrenn up` needs on the machine and installs the missing system packages with apt, saying which
 * first. npm packages are installed with `npm ci` when node_modules is missing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./stack-layout.ts";

/** Debian packages the host agent and the image builder use. */
export const SYSTEM_PACKAGES = [
  "qemu-system-x86",
  "qemu-utils",
  "debootstrap",
  "busybox-static",
  "tini",
  "e2fsprogs",
  "cpio",
] as const;

/** An error whose message tells the user what to do. */
export class PrerequisiteError extends Error {
  override name = "PrerequisiteError";
}

/** Packages of `wanted` that dpkg does not report as installed. */
export function missingPackages(wanted: readonly string[], isInstalled = dpkgInstalled): string[] {
  return wanted.filter((p) => !isInstalled(p));
}

function dpkgInstalled(pkg: string): boolean {
  const r = spawnSync("dpkg-query", ["-W", `-f=${"$"}{Status}`, pkg], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes("install ok installed");
}

/** Ensures root, system packages and npm packages; prints each action before doing it. */
export function ensurePrerequisites(log: (line: string) => void, options: { skipApt?: boolean } = {}): void {
  if (process.platform !== "linux") throw new PrerequisiteError("wrenn up runs on Linux (Debian 12 is tested)");
  if (process.getuid?.() !== 0) {
    throw new PrerequisiteError(
      "wrenn up must run as root: it starts QEMU and keeps images under /var/lib/wrenn. Run `sudo make up`.",
    );
  }
  if (!options.skipApt) {
    const missing = missingPackages(SYSTEM_PACKAGES);
    if (missing.length > 0) {
      log(`installing system packages with apt: ${missing.join(" ")}`);
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
      execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
        stdio: "inherit",
        env,
      });
    }
  }
  if (!existsSync(join(REPO_ROOT, "node_modules", "tsx"))) {
    log("installing npm packages (npm ci)");
    execFileSync("npm", ["ci", "--no-fund", "--no-audit", "--loglevel=error"], { cwd: REPO_ROOT, stdio: "inherit" });
  }
}
