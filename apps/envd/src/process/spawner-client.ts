import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { closeSync, constants as fsConstants, openSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { EnvdError } from "../errors.ts";
import { startLineHelper } from "../line-helper.ts";
import type { Logger } from "../logger.ts";
import { type SpawnSpec, signalGroup } from "./backend.ts";
import { encodeRelease, encodeSpawn, parseSpawnerLine, type SpawnerLine } from "./spawner-protocol.ts";

/** How a spawned process ended: its exit code or signal number, or `lost` when the spawner died first. */
export type SpawnerExit = { code: number | null; signal: number | null } | { lost: string };

/** A started process: its pid and envd's own fds of its pipes (stdin undefined when not wanted or already gone). */
export interface SpawnedPipes {
  pid: number;
  stdinFd: number | undefined;
  stdoutFd: number;
  stderrFd: number;
}

/** Options of `SpawnerClient.start`. */
export interface SpawnerClientOptions {
  /** The wrenn-spawner binary. */
  path: string;
  /** How long one spawn may wait for its answer, ms; past it the spawner is killed. Default 10000. */
  timeoutMs?: number;
  log: Logger;
}

interface Pending {
  spec: SpawnSpec;
  onExit: (exit: SpawnerExit) => void;
  resolve: (pipes: SpawnedPipes) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/**
 * Client of one wrenn-spawner process (images/guest/wrenn-spawner.c): envd asks it to fork and exec, so
 * envd's own (large) process is never forked. The spawner answers with the pipes' fd numbers in its own
 * table; envd opens them through /proc/<spawner>/fd/<n> (which yields new fds of the same pipes) and then
 * tells the spawner to close its copies. When the spawner dies, pending spawns reject, running processes get
 * a `lost` exit, and the client stays dead (`isAlive` false).
 */
export class SpawnerClient {
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<number, (exit: SpawnerExit) => void>();
  private nextId = 1;
  private deadReason: string | undefined;
  private readonly timeoutMs: number;
  private readonly log: Logger;

  private readonly child: ChildProcessWithoutNullStreams;

  private constructor(options: SpawnerClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.log = options.log;
    this.child = startLineHelper({
      path: options.path,
      name: "spawner",
      log: options.log,
      onLine: (text) => this.onText(text),
      onGone: (reason) => this.die(reason),
    });
  }

  /** Starts the spawner. A binary that cannot start shows up as a dead client, not as a throw. */
  static start(options: SpawnerClientOptions): SpawnerClient {
    return new SpawnerClient(options);
  }

  /** False once the spawner exited, failed to start, missed a deadline or was closed. */
  get isAlive(): boolean {
    return this.deadReason === undefined;
  }

  /** The spawner's pid (tests count its fds). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Starts `spec` in its own session. Resolves with envd's fds of the pipes (the caller owns them);
   * `onExit` is called exactly once, when the spawner reaped the process or died. Rejects with an
   * EnvdError when nothing was started.
   */
  spawn(spec: SpawnSpec, onExit: (exit: SpawnerExit) => void): Promise<SpawnedPipes> {
    if (this.deadReason !== undefined) return Promise.reject(new EnvdError("internal_error", this.deadReason));
    const id = this.nextId++;
    let request: Buffer;
    try {
      request = encodeSpawn(id, spec);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.die(`spawner did not answer within ${this.timeoutMs} ms`), this.timeoutMs);
      this.pending.set(id, { spec, onExit, resolve, reject, timer });
      this.child.stdin.write(request);
    });
  }

  /** Stops the spawner (its running processes keep running, unreported). Idempotent. */
  close(): void {
    this.die("spawner closed", true);
  }

  private onText(text: string): void {
    if (this.deadReason !== undefined) return;
    const line = parseSpawnerLine(text);
    if (!line) {
      this.die(`spawner broke the protocol: ${JSON.stringify(text.slice(0, 200))}`);
      return;
    }
    this.onLine(line);
  }

  private onLine(line: SpawnerLine): void {
    if (line.kind === "exit") {
      const onExit = this.running.get(line.pid);
      this.running.delete(line.pid);
      onExit?.({ code: line.code, signal: line.signal });
      return;
    }
    const p = this.pending.get(line.id);
    if (!p) {
      this.log.warn({ line }, "spawner answered an unknown request");
      return;
    }
    this.pending.delete(line.id);
    clearTimeout(p.timer);
    if (line.kind === "error") {
      p.reject(spawnError(line.errno, line.stage, p.spec));
      return;
    }
    // Registered now, synchronously: its exit line may follow in the same chunk.
    this.running.set(line.pid, p.onExit);
    try {
      p.resolve(this.takePipes(line));
    } catch (err) {
      // Without its pipes the process cannot be served: stop it rather than leave it running unseen.
      this.running.delete(line.pid);
      signalGroup(line.pid, "SIGKILL");
      p.reject(EnvdError.from(err));
    }
  }

  /** Opens envd's own fds of the pipes, then lets the spawner close its copies (whatever happened). */
  // libuv opens with O_CLOEXEC, so no process envd forks (PTYs, fallback spawns) inherits these.
  private takePipes(line: Extract<SpawnerLine, { kind: "ok" }>): SpawnedPipes {
    const opened: number[] = [];
    const open = (fd: number, flags: number) => {
      const own = openSync(`/proc/${this.child.pid}/fd/${fd}`, flags | fsConstants.O_NONBLOCK);
      opened.push(own);
      return own;
    };
    try {
      const stdoutFd = open(line.stdoutFd, fsConstants.O_RDONLY);
      const stderrFd = open(line.stderrFd, fsConstants.O_RDONLY);
      let stdinFd: number | undefined;
      if (line.stdinFd >= 0) {
        try {
          stdinFd = open(line.stdinFd, fsConstants.O_WRONLY);
        } catch (err) {
          // ENXIO: no reader left, the process already closed its stdin (or exited); writes will say so.
          if ((err as NodeJS.ErrnoException).code !== "ENXIO") throw err;
        }
      }
      return { pid: line.pid, stdinFd, stdoutFd, stderrFd };
    } catch (err) {
      for (const fd of opened) closeSync(fd);
      throw err;
    } finally {
      this.child.stdin.write(encodeRelease(line.id));
    }
  }

  private die(reason: string, isExpected = false): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    if (!isExpected)
      this.log.warn({ pending: this.pending.size, running: this.running.size, reason }, "spawner stopped");
    this.child.kill("SIGKILL");
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new EnvdError("internal_error", reason));
    }
    this.pending.clear();
    const running = [...this.running.values()];
    this.running.clear();
    for (const onExit of running) onExit({ lost: reason });
  }
}

/** The EnvdError for a failed spawn, as child_process.spawn's errno error would map (see EnvdError.from). */
function spawnError(errno: number, stage: string, spec: SpawnSpec): EnvdError {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const err = Object.assign(new Error(`spawn ${spec.file}: ${stage}: ${code}`), {
    code,
    errno: -errno,
    syscall: stage,
  });
  return EnvdError.from(err, stage === "chdir" ? `working directory ${spec.cwd}` : spec.file);
}
