import { errors } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { EnvdState } from "../state.ts";
import type { UserResolver } from "../users.ts";
import { type BackendSink, type ProcessBackend, type SpawnSpec, signalGroup } from "./backend.ts";
import { spawnPipeBackend } from "./pipe-backend.ts";
import { type ProcessDescription, ProcessHandle, type ProcessLimits } from "./process-handle.ts";
import type { ProcessTable, Selector } from "./process-table.ts";
import { type PtySize, spawnPtyBackend } from "./pty-backend.ts";
import { resolveSpawnSpec } from "./spawn-spec.ts";
import type { Subscription } from "./subscription.ts";

/** A Start request in envd's own terms. */
export interface StartOptions {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd: string | undefined;
  /** Start on a PTY of this size. */
  pty: PtySize | undefined;
  tag: string | undefined;
  /** Keep stdin open (pipes). Default true. */
  stdin: boolean;
  /** User name; empty means the default user. */
  user: string | undefined;
}

/** Starts and drives processes; the Connect service is a thin layer over it. */
export interface ProcessManager {
  readonly table: ProcessTable;
  /**
   * Starts a process with the caller already subscribed, so it sees every byte of output. Closing the subscription
   * detaches the caller; the process keeps running.
   */
  start(options: StartOptions): Promise<{ handle: ProcessHandle; subscription: Subscription }>;
  /** Sends a signal to the process's whole process group. */
  signal(selector: Selector, signal: NodeJS.Signals): void;
}

/** Dependencies of `createProcessManager`. */
export interface ProcessManagerDeps {
  state: EnvdState;
  users: UserResolver;
  table: ProcessTable;
  log: Logger;
  limits?: ProcessLimits;
  /** Starts pipe processes (see `createPipeStarter`). Default: child_process.spawn (`spawnPipeBackend`). */
  startPipes?: (spec: SpawnSpec, sink: BackendSink) => Promise<ProcessBackend>;
}

/** Creates the process manager. */
export function createProcessManager(deps: ProcessManagerDeps): ProcessManager {
  const { table, log } = deps;
  const startPipes = deps.startPipes ?? spawnPipeBackend;
  return {
    table,
    async start(options) {
      if (options.tag && table.hasTag(options.tag)) {
        throw errors.alreadyExists(`process tag ${JSON.stringify(options.tag)}`);
      }
      const user = await deps.users.resolve(options.user);
      const spec = await resolveSpawnSpec(options, user, deps.state);
      const description: ProcessDescription = {
        cmd: options.cmd,
        args: options.args,
        envs: options.envs,
        cwd: options.cwd,
      };
      const handle = new ProcessHandle(description, options.tag, deps.limits);
      const subscription = handle.subscribe();
      const sink: BackendSink = {
        data: (kind, data) => handle.fanout.publish(kind, data),
        end: (info) => {
          handle.markEnded(info);
          log.debug({ pid: handle.pid, tag: options.tag, status: info.status }, "process ended");
        },
      };
      let backend: ProcessBackend;
      try {
        backend = options.pty ? await spawnPtyBackend(spec, options.pty, sink) : await startPipes(spec, sink);
      } catch (err) {
        subscription.close();
        throw err;
      }
      handle.attach(backend);
      table.add(handle);
      log.debug({ pid: backend.pid, cmd: options.cmd, tag: options.tag, isPty: backend.isPty }, "process started");
      return { handle, subscription };
    },
    signal(selector, signal) {
      const handle = table.get(selector);
      signalGroup(handle.pid, signal);
    },
  };
}
