import { closeSync } from "node:fs";
import net from "node:net";
import { EnvdError, errors } from "../errors.ts";
import { type BackendSink, endInfoFrom, type ProcessBackend, type SpawnSpec } from "./backend.ts";
import { PipeOutput } from "./pipe-output.ts";
import type { SpawnerClient, SpawnerExit } from "./spawner-client.ts";

/**
 * Starts a child on pipes through wrenn-spawner: the same process as `spawnPipeBackend` gives (own session,
 * ids, cwd, env), without forking envd. Its output comes relayed over the spawner's channel, so envd holds no
 * pipe of its own for it. Rejects with an EnvdError if nothing was started.
 */
export async function spawnSpawnerBackend(
  client: SpawnerClient,
  spec: SpawnSpec,
  sink: BackendSink,
): Promise<ProcessBackend> {
  // The spawn id, once the spawn is answered. Nothing can pause or resume before: the backend is not handed out
  // until then (ProcessHandle.attach passes on a pause asked for meanwhile). The exit grace cannot run out before it
  // either (its OK comes first).
  let id = 0;
  const output = new PipeOutput(sink, {
    pause: () => {
      if (id) client.pause(id);
    },
    resume: () => {
      if (id) client.resume(id);
    },
    abandon: () => {
      if (id) client.forget(id);
    },
  });
  // envd's end of the process's stdin: a bare fd until something is written, then a socket. Most commands never get
  // input, and a socket costs JavaScript to make and to tear down (~3% of envd's CPU per command).
  let stdinFd: number | undefined;
  let stdin: net.Socket | undefined;
  let hasExited = false;
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
  const onExit = (exit: SpawnerExit) => {
    // As child_process does: once the process is gone, envd's end of its stdin is closed.
    hasExited = true;
    stdin?.destroy();
    closeStdinFd();
    if ("lost" in exit) output.lost({ exitCode: -1, exited: false, status: "unknown", error: exit.lost });
    else output.exited(endInfoFrom(exit.code, exit.signal));
  };
  const started = await client.spawn(spec, {
    onData: (kind, data) => output.data(kind, data),
    onEof: (kind) => output.closed(kind),
    onExit,
  });
  const { pid } = started;
  id = started.id;
  stdinFd = started.stdinFd;
  // Its exit may have been reported before the spawn promise settled.
  if (hasExited) closeStdinFd();

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
    pause: () => output.pause(),
    resume: () => output.resume(),
  };
}
