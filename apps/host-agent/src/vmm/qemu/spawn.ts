/**
 * Starts a QEMU process detached (its own process group, output to files in its folder) so that an agent restart
 * does not take it down, then waits for its QMP socket. Any failure kills what was started and says why.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { AgentError, errors } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { VmSpec } from "../vmm.ts";
import { vmFiles } from "./cmdline.ts";
import { tailFile } from "./console-log.ts";
import { killGroup } from "./proc.ts";
import { QmpClient } from "./qmp-client.ts";

/** A started process with its control session. */
export interface SpawnedQemu {
  readonly pid: number;
  readonly qmp: QmpClient;
}

/** Spawns `bin args` for `spec` and connects QMP within `timeoutMs`. */
export async function spawnQemu(
  bin: string,
  args: string[],
  spec: VmSpec,
  log: Logger,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SpawnedQemu> {
  const files = vmFiles(spec.dir);
  if (Buffer.byteLength(files.qmpSocket) > 100) {
    throw errors.invalidArgument(`path ${files.qmpSocket} is too long for a unix socket; use a shorter root dir`);
  }
  await mkdir(spec.dir, { recursive: true });
  await rm(files.qmpSocket, { force: true });
  const out = openSync(files.stdout, "w");
  const err = openSync(files.stderr, "w");
  let exit: { code: number | null; signal: string | null } | undefined;
  let spawnError: Error | undefined;
  const child = (() => {
    try {
      return spawn(bin, args, { detached: true, stdio: ["ignore", out, err], cwd: spec.dir });
    } finally {
      closeSync(out);
      closeSync(err);
    }
  })();
  child.on("error", (e) => {
    spawnError = e;
  });
  child.on("exit", (code, sig) => {
    exit = { code, signal: sig };
  });
  child.unref();
  const what = `VM ${spec.name}`;
  log.debug({ bin, args: args.join(" ") }, "spawning qemu");

  const fail = async (e: AgentError): Promise<never> => {
    if (child.pid !== undefined) await killGroup(child.pid, 5000);
    throw e;
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) {
      const code = (spawnError as NodeJS.ErrnoException).code;
      return fail(
        errors.vmStartFailed(
          what,
          code === "ENOENT" ? `binary "${bin}" not found (AGENT_QEMU_BIN)` : spawnError.message,
        ),
      );
    }
    if (exit) {
      const stderr = (await tailFile(files.stderr, 2000)).trim();
      const how = exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
      return fail(errors.vmStartFailed(what, `exited early (${how}): ${stderr || "no output"}`));
    }
    if (signal?.aborted) return fail(new AgentError("canceled", `${what}: start canceled`));
    if (child.pid !== undefined) {
      try {
        const qmp = await QmpClient.connect(files.qmpSocket, Math.max(100, Math.min(2000, deadline - Date.now())));
        return { pid: child.pid, qmp };
      } catch {
        // Socket not there yet: QEMU is still initialising.
      }
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  return fail(errors.vmStartFailed(what, `no QMP socket within ${timeoutMs} ms`));
}
