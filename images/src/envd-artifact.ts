import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "./build-error.ts";
import { allExist } from "./fs-atomic.ts";
import type { Progress } from "./progress.ts";
import { dirSha256, fileSha256 } from "./recipe-hash.ts";
import { runCommand } from "./run-command.ts";

/** The envd build that goes into every image. */
export interface EnvdArtifact {
  /** The envd executable (a Node single executable), installed as /usr/local/bin/envd. */
  binary: string;
  sha256: string;
  /** Its native addons (PTY), installed as /usr/local/lib/envd/; absent when the build has none. */
  nativeDir?: string;
  nativeSha256?: string;
}

/**
 * Finds envd in `dir` (`envd` + `envd-native/`). With no `dir` given it uses the repository's `builds/`
 * and, when envd is not there yet or is older than its sources, runs the envd build
 * (`node --import tsx apps/envd/build.ts`) first — an image must never carry a stale envd.
 */
export async function locateEnvd(repoRoot: string, dir: string | undefined, progress: Progress): Promise<EnvdArtifact> {
  const from = dir ?? join(repoRoot, "builds");
  const binary = join(from, "envd");
  if (!(await allExist([binary])) || (!dir && (await envdSourcesNewerThan(repoRoot, binary)))) {
    if (dir)
      throw new BuildError(
        "envd_missing",
        `${binary} does not exist`,
        "point --envd-dir at a folder holding envd and envd-native/",
      );
    const script = join(repoRoot, "apps/envd/build.ts");
    if (!(await allExist([script]))) {
      throw new BuildError(
        "envd_missing",
        `${binary} does not exist and ${script} is not there to build it`,
        "build envd first (make build-envd), or pass --envd-dir",
      );
    }
    await progress.step("envd: build (apps/envd/build.ts)", (s) =>
      runCommand(process.execPath, ["--import", "tsx", script], {
        cwd: repoRoot,
        onLine: (l) => s.tick(l),
        timeoutMs: 15 * 60_000,
        hint: "fix the envd build, then rerun",
      }),
    );
    if (!(await allExist([binary])))
      throw new BuildError("envd_missing", `the envd build finished but wrote no ${binary}`);
  }
  const st = await stat(binary);
  if (!st.isFile() || (st.mode & 0o111) === 0)
    throw new BuildError("bad_artifact", `${binary} is not an executable file`);
  const nativeDir = join(from, "envd-native");
  const hasNative = await stat(nativeDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const artifact: EnvdArtifact = { binary, sha256: await fileSha256(binary) };
  if (hasNative) {
    artifact.nativeDir = nativeDir;
    artifact.nativeSha256 = await dirSha256(nativeDir);
  } else {
    progress.info(`! ${nativeDir} is missing: images get no PTY addon`);
  }
  progress.info(`= envd ${artifact.sha256.slice(0, 12)} from ${from}`);
  return artifact;
}

/** Sources whose change means envd must be rebuilt. */
const ENVD_SOURCES = ["apps/envd/src", "apps/envd/build.ts", "apps/envd/package.json", "packages/protocol/src"];

/** True when any envd source file is newer than the built binary. */
async function envdSourcesNewerThan(repoRoot: string, binary: string): Promise<boolean> {
  const builtAt = (await stat(binary)).mtimeMs;
  for (const rel of ENVD_SOURCES) {
    if ((await newestMtimeMs(join(repoRoot, rel))) > builtAt) return true;
  }
  return false;
}

async function newestMtimeMs(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of await readdir(path)) {
    if (entry === "node_modules") continue;
    newest = Math.max(newest, await newestMtimeMs(join(path, entry)));
  }
  return newest;
}
