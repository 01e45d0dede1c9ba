/** qcow2 copy-on-write overlays: a capsule's disk is a thin qcow2 over its template's frozen disk (vm.md §6). */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AgentError } from "../errors.ts";

const run = promisify(execFile);

/** Creates `path` as a qcow2 overlay over `backing` (absolute path) of format `backingFormat`. ~20 ms. */
export async function createOverlay(
  qemuImg: string,
  backing: string,
  backingFormat: "raw" | "qcow2",
  path: string,
): Promise<void> {
  try {
    await run(qemuImg, ["create", "-q", "-f", "qcow2", "-b", backing, "-F", backingFormat, path], { timeout: 30_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new AgentError("internal_error", `creating disk overlay over ${backing} failed: ${stderr || String(err)}`, {
      cause: err,
    });
  }
}
