import { existsSync } from "node:fs";
import type { Logger } from "../logger.ts";
import type { BackendSink, ProcessBackend, SpawnSpec } from "./backend.ts";
import { spawnPipeBackend } from "./pipe-backend.ts";
import { spawnSpawnerBackend } from "./spawner-backend.ts";
import { SpawnerClient } from "./spawner-client.ts";

/** Starts pipe (non-PTY) processes; owns the wrenn-spawner process when there is one. */
export interface PipeStarter {
  start(spec: SpawnSpec, sink: BackendSink): Promise<ProcessBackend>;
  /** The live spawner's pid, if any (tests count its fds). */
  readonly spawnerPid: number | undefined;
  /** Stops the spawner; later starts use child_process. */
  close(): void;
}

/** Options of `createPipeStarter`. */
export interface PipeStarterOptions {
  /** The wrenn-spawner binary; undefined or missing means child_process.spawn for every process. */
  spawnerPath: string | undefined;
  log: Logger;
}

/**
 * The one place that chooses how pipe processes start. With wrenn-spawner present it is started now (so it
 * is inside every template's memory snapshot) and used for every pipe process: envd is never forked. A spawner
 * that died is restarted once, on the next start; after that, and without the binary, processes start with
 * child_process.spawn as before (one fork of envd each).
 */
export function createPipeStarter(options: PipeStarterOptions): PipeStarter {
  const { spawnerPath, log } = options;
  let isClosed = false;
  let restartsLeft = 1;
  const launch = () =>
    spawnerPath && !isClosed && existsSync(spawnerPath) ? SpawnerClient.start({ path: spawnerPath, log }) : undefined;
  let client = launch();
  if (client) log.info({ path: spawnerPath, pid: client.pid }, "spawner started");

  const live = () => {
    if (client && !client.isAlive && restartsLeft > 0 && !isClosed) {
      restartsLeft -= 1;
      client = launch();
      log.warn({ path: spawnerPath, pid: client?.pid }, "spawner restarted");
    }
    return client?.isAlive ? client : undefined;
  };

  return {
    start(spec, sink) {
      const c = live();
      return c ? spawnSpawnerBackend(c, spec, sink) : spawnPipeBackend(spec, sink);
    },
    get spawnerPid() {
      return live()?.pid;
    },
    close() {
      isClosed = true;
      client?.close();
    },
  };
}
