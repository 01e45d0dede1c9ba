/**
 * Builds Wrenn's guest kernel and template images under AGENT_FILES_ROOTDIR (default /var/lib/wrenn).
 *   node --import tsx images/build.ts [--root DIR] [--only minimal,python,node] [--force] [--force-base] [--envd-dir DIR]
 * See images/README.md. Exit status: 0 built or up to date, 1 failed (the last lines say what to do), 2 bad arguments.
 */
import { fileURLToPath } from "node:url";
import { BuildError } from "./src/build-error.ts";
import { buildImages } from "./src/build-images.ts";
import { parseBuildOptions, USAGE } from "./src/build-options.ts";
import { createProgress } from "./src/progress.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
// debootstrap, mkfs.ext4 and chroot live in sbin, which a plain user's PATH (sudo -E) may lack.
process.env.PATH = `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/sbin:/sbin`;

async function main(): Promise<number> {
  const progress = createProgress({ out: process.stdout });
  const started = performance.now();
  try {
    const opts = parseBuildOptions(process.argv.slice(2), process.env);
    if (opts.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const result = await buildImages(opts, repoRoot, progress);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    progress.info(
      `done in ${secs}s: kernel ${result.kernelRelease}; ${result.images.map((m) => `${m.name} ${(m.size_bytes / 2 ** 20).toFixed(0)} MiB`).join(", ")}`,
    );
    return 0;
  } catch (err) {
    const e = BuildError.from(err);
    process.stderr.write(`\nimage build failed [${e.code}]: ${e.message}\n`);
    if (e.hint) process.stderr.write(`next step: ${e.hint}\n`);
    return e.code === "invalid_args" ? 2 : 1;
  }
}

process.exitCode = await main();
