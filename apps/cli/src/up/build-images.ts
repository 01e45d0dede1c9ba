/**
 * Builds the guest kernel and template images by running `images/build.ts` with its own progress output.
 * The builder caches by recipe hash, so a second run takes seconds.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./stack-layout.ts";

/** Runs the image builder for `filesRootDir`; rejects with its exit code on failure. */
export function buildImages(filesRootDir: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "images", "build.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, AGENT_FILES_ROOTDIR: filesRootDir },
      stdio: ["ignore", "inherit", "inherit"],
      signal,
    });
    child.once("error", reject);
    child.once("exit", (code, sig) => {
      if (code === 0) resolve();
      else reject(new Error(`building the guest images failed (${sig ?? `exit ${code}`}); see the output above`));
    });
  });
}
