import { closeSync } from "node:fs";
import net from "node:net";
import { EnvdError, errors } from "../errors.ts";
import { type BackendSink, endInfoFrom, type ProcessBackend, type SpawnSpec } from "./backend.ts";
import { PipeOutput } from "./pipe-output.ts";
import type { SpawnerClient, SpawnerExit } from "./spawner-client.ts";

/**
 * Starts a child on pipes through wrenn-spawner: the same process as `spawnPipeBackend` gives (own session,
 * ids, cwd, env), without forking envd. Rejects with an EnvdError if nothing was started.
 */
export async function spawnSpawnerBackend(
  client: SpawnerClient,
  spec: SpawnSpec,
  sink: BackendSink,
): Promise<ProcessBackend> {
  let output: PipeOutput | undefined;
  // envd's end of the process's stdin: a bare fd until something is written, then a socket. Most commands never get
  // input, and a socket costs JavaScript to make and to tear down (~3% of envd's CPU per command).
  let stdinFd: number | undefined;
  let stdin: net.Socket | undefined;
  const closeStdinFd = () => {
    if (stdinFd === undefined) return;
    const fd = stdinFd;
    stdinFd = undefined;
    closeSync(fd);
  };
  const stdinSocket = (): net.Socket | undefined => {
    if (!stdin && stdinFd !== undefined) {
      stdin = new net.Socket({ fd: stdinFd, readable: false, writable: true });
      stdinFd = undefined;
      // EPIPE (the process closed its stdin) must not crash envd; writes report it instead.
      stdin.on("error", () => {});
    }
    return stdin;
  };
  let early: SpawnerExit | undefined;
  const onExit = (exit: SpawnerExit) => {
    // As child_process does: once the process is gone, envd's end of its stdin is closed.
    stdin?.destroy();
    closeStdinFd();
    if (!output) early = exit;
    else if ("lost" in exit) {
      // Nobody can tell how it ended now; end it as unknown once its pipes close.
      output.exited({ exitCode: -1, exited: false, status: "unknown", error: exit.lost }, false);
    } else output.exited(endInfoFrom(exit.code, exit.signal));
  };
  const pipes = await client.spawn(spec, onExit);
  const { pid } = pipes;
  // libuv sees FIFOs and drives them as pipe streams: EOF, pause/resume and backpressure work as for sockets.
  const stdout = new net.Socket({ fd: pipes.stdoutFd, readable: true, writable: false });
  const stderr = new net.Socket({ fd: pipes.stderrFd, readable: true, writable: false });
  const out = new PipeOutput(stdout, stderr, sink);
  output = out;
  stdinFd = pipes.stdinFd;
  if (early) onExit(early);

  return {
    pid,
    isPty: false,
    write(data) {
      const s = stdinSocket();
      if (!s || s.destroyed || s.writableEnded) {
        return Promise.reject(errors.failedPrecondition(`stdin of process ${pid} is closed`));
      }
      return new Promise((res, rej) => {
        s.write(data, (err) => (err ? rej(EnvdError.from(err)) : res()));
      });
    },
    closeStdin() {
      if (!spec.stdin) throw errors.failedPrecondition(`process ${pid} was started without stdin`);
      stdin?.end();
      closeStdinFd();
    },
    resize() {
      throw errors.failedPrecondition(`process ${pid} has no PTY`);
    },
    pause: () => out.pause(),
    resume: () => out.resume(),
  };
}
