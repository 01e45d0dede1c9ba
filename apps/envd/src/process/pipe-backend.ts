import { spawn } from "node:child_process";
import { EnvdError, errors } from "../errors.ts";
import { type BackendSink, endInfoFrom, type ProcessBackend, type SpawnSpec } from "./backend.ts";

/** How long output may stay idle after the process exited before envd stops waiting for its pipes, in ms. */
const EXIT_PIPE_GRACE_MS = 1000;

/**
 * Starts a child on pipes, in its own session (so a signal reaches its whole process group).
 * Rejects with an EnvdError if the kernel refuses to start it.
 */
export function spawnPipeBackend(spec: SpawnSpec, sink: BackendSink): Promise<ProcessBackend> {
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
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    let isPaused = false;
    let lastDataAt = Date.now();
    let isEnded = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = () => {
      if (isEnded || !exit) return;
      isEnded = true;
      if (graceTimer) clearTimeout(graceTimer);
      sink.end(endInfoFrom(exit.code, exit.signal));
    };
    // A background grandchild may keep the pipes open forever; once the process itself exited and the
    // pipes went quiet, stop waiting for them (the reference ends the stream on exit as well).
    const checkGrace = () => {
      graceTimer = undefined;
      if (isEnded) return;
      if (!isPaused && Date.now() - lastDataAt >= EXIT_PIPE_GRACE_MS) {
        stdout.destroy();
        stderr.destroy();
        finish();
        return;
      }
      graceTimer = setTimeout(checkGrace, EXIT_PIPE_GRACE_MS);
    };
    stdout.on("data", (chunk: Buffer) => {
      lastDataAt = Date.now();
      sink.data("stdout", chunk);
    });
    stderr.on("data", (chunk: Buffer) => {
      lastDataAt = Date.now();
      sink.data("stderr", chunk);
    });
    // EPIPE on stdin (the process closed it) must not crash envd; writes report it instead.
    stdin?.on("error", () => {});
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      graceTimer = setTimeout(checkGrace, EXIT_PIPE_GRACE_MS);
    });
    child.on("close", finish);

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
      pause() {
        isPaused = true;
        stdout.pause();
        stderr.pause();
      },
      resume() {
        isPaused = false;
        lastDataAt = Date.now();
        stdout.resume();
        stderr.resume();
      },
    });
  });
}
