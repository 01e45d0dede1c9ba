import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileSpawnerHelper } from "../../../../images/src/spawner-helper.ts";

/** How the process tests start pipe processes: the two backends `createPipeStarter` chooses between. */
export const PIPE_BACKENDS = ["child_process", "wrenn-spawner"] as const;
export type PipeBackendName = (typeof PIPE_BACKENDS)[number];

/**
 * Compiles images/guest/wrenn-spawner.c for tests and benchmarks (gcc, as the image build does) into a cache
 * under the temp dir, named by the source hash: compiled once per source version, shared by test files.
 */
export async function compileTestSpawner(): Promise<string> {
  const dir = join(tmpdir(), "wrenn-test-helpers");
  return (await compileSpawnerHelper(join(dir, "bin"), join(dir, "scratch"))).path;
}

/** The harness's `spawner` option for `backend`. */
export async function spawnerFor(backend: PipeBackendName): Promise<string | undefined> {
  return backend === "wrenn-spawner" ? compileTestSpawner() : undefined;
}
