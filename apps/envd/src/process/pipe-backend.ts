import { spawn } from "node:child_process";
import { EnvdError, errors } from "../errors.ts";
import { type BackendSink, endInfoFrom, type ProcessBackend, type SpawnSpec } from "./backend.ts";
import { readPipeStreams } from "./pipe-output.ts";
import { checkSpawnable } from "./spawn-spec.ts";

/**
 * Starts a child on pipes with child_process.spawn, in its own session (so a signal reaches its whole process
 * group). Node forks all of envd for it; `spawnSpawnerBackend` avoids that when wrenn-spawner is there.
 * Rejects with an EnvdError if the kernel refuses to start it.
 */
export function spawnPipeBackend(spec: SpawnSpec, sink: BackendSink): Promise<ProcessBackend> {
  try {
    checkSpawnable(spec);
  } catch (err) {
    return Promise.reject(err);
  }
  const child = spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    uid: spec.uid,
    gid: spec.gid,
    detached: true,
    stdio: [spec.stdin ? "pipe" : "ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", (err) => {
      if (child.pid === undefined) reject(EnvdError.from(err, spec.file));
    });
    if (child.pid === undefined) return;
    const pid = child.pid;
    const { stdin } = child;
    // Both are pipes (stdio above), so never null.
    const output = readPipeStreams(child.stdout!, child.stderr!, sink);
    // EPIPE on stdin (the process closed it) must not crash envd; writes report it instead.
    stdin?.on("error", () => {});
    child.on("exit", (code, signal) => output.exited(endInfoFrom(code, signal)));

    resolve({
      pid,
      isPty: false,
      write(data) {
        if (!stdin || stdin.destroyed || stdin.writableEnded) {
          return Promise.reject(errors.failedPrecondition(`stdin of process ${pid} is closed`));
        }
        return new Promise((res, rej) => {
          stdin.write(data, (err) => (err ? rej(EnvdError.from(err)) : res()));
        });
      },
      closeStdin() {
        if (!stdin) throw errors.failedPrecondition(`process ${pid} was started without stdin`);
        stdin.end();
      },
      resize() {
        throw errors.failedPrecondition(`process ${pid} has no PTY`);
      },
      pause: () => output.pause(),
      resume: () => output.resume(),
    });
  });
}
