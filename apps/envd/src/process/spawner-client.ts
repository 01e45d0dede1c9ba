import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { constants as fsConstants, openSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { EnvdError } from "../errors.ts";
import { startHelperProcess } from "../helper-process.ts";
import type { Logger } from "../logger.ts";
import { type SpawnSpec, signalGroup } from "./backend.ts";
import { checkSpawnable } from "./spawn-spec.ts";
import { encodeControl, encodeSpawn, SpawnerFrameDecoder } from "./spawner-protocol.ts";

/** How a spawned process ended: its exit code or signal number, or `lost` when the spawner died first. */
export type SpawnerExit = { code: number | null; signal: number | null } | { lost: string };

/** What a started process reports, relayed by the spawner; called from the moment its spawn is answered. */
export interface SpawnedProcessEvents {
  /** Output, in order per stream. */
  onData(kind: "stdout" | "stderr", data: Buffer): void;
  /** That stream ended (once per stream; never after a `lost` exit). */
  onEof(kind: "stdout" | "stderr"): void;
  /** Once: the process was reaped (output may still follow, from a grandchild), or the spawner died before that. */
  onExit(exit: SpawnerExit): void;
}

/** A started process: its spawn id (for pause/resume/forget), pid, and envd's own fd of its stdin's write end. */
export interface SpawnedProcess {
  id: number;
  pid: number;
  /** Undefined when stdin was not asked for, or the process already closed it. The caller owns it. */
  stdinFd: number | undefined;
}

/** Options of `SpawnerClient.start`. */
export interface SpawnerClientOptions {
  /** The wrenn-spawner binary. */
  path: string;
  /** How long one spawn may wait for its answer, ms; past it the spawner is killed. Default 10000. */
  timeoutMs?: number;
  log: Logger;
}

/** A spawn from request to the end of its reports: first waiting for its answer, then running. */
interface Spawn {
  id: number;
  spec: SpawnSpec;
  events: SpawnedProcessEvents;
  resolve: (started: SpawnedProcess) => void;
  reject: (err: Error) => void;
  /** Date.now() past which the spawner has missed its answer. */
  deadline: number;
  /** Set once started. */
  pid: number;
  openStreams: number;
  hasExited: boolean;
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
const LAST_ID = 0xffff_ffff;

/**
 * Client of one wrenn-spawner process (images/guest/wrenn-spawner.c): envd asks it to fork and exec, so
 * envd's own (large) process is never forked, and it relays every process's stdout and stderr over its one
 * channel, so envd holds no pipe of its own per process (except stdin, opened through /proc/<spawner>/fd/<n>
 * when asked for). When the spawner dies, pending spawns reject, running processes get a `lost` exit at once
 * (their output went with it), and the client stays dead (`isAlive` false).
 */
export class SpawnerClient {
  /** Spawns waiting for their answer, oldest first: the spawner answers in request order. */
  private readonly pending: Spawn[] = [];
  private readonly running = new Map<number, Spawn>();
  private readonly decoder: SpawnerFrameDecoder;
  private nextId = 1;
  private deadReason: string | undefined;
  /** One timer for the oldest pending spawn's deadline, left running while idle (a timer per spawn cost CPU). */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;
  private readonly log: Logger;

  private readonly child: ChildProcessWithoutNullStreams;

  private constructor(options: SpawnerClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.log = options.log;
    this.decoder = new SpawnerFrameDecoder({
      started: (id, pid, stdinFd) => this.onStarted(id, pid, stdinFd),
      failed: (id, errno, stage) => this.onFailed(id, errno, stage),
      data: (id, kind, data) => this.running.get(id)?.events.onData(kind, data),
      eof: (id, kind) => this.onEof(id, kind),
      exited: (id, code, signal) => this.onExited(id, code, signal),
    });
    this.child = startHelperProcess({
      path: options.path,
      name: "spawner",
      log: options.log,
      onData: (chunk) => {
        if (this.deadReason !== undefined) return;
        const malformed = this.decoder.push(chunk);
        if (malformed !== undefined) this.die(malformed);
      },
      onGone: (reason) => this.die(reason),
    });
  }

  /** Starts the spawner. A binary that cannot start shows up as a dead client, not as a throw. */
  static start(options: SpawnerClientOptions): SpawnerClient {
    return new SpawnerClient(options);
  }

  /** False once the spawner exited, failed to start, missed a deadline, broke the protocol or was closed. */
  get isAlive(): boolean {
    return this.deadReason === undefined;
  }

  /** The spawner's pid (tests count its fds). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Starts `spec` in its own session. `events` gets its output and exit from the moment it started (before
   * the promise settles). Rejects with an EnvdError when nothing was started.
   */
  spawn(spec: SpawnSpec, events: SpawnedProcessEvents): Promise<SpawnedProcess> {
    if (this.deadReason !== undefined) return Promise.reject(new EnvdError("internal_error", this.deadReason));
    const id = this.nextId;
    this.nextId = id === LAST_ID ? 1 : id + 1;
    let request: Buffer;
    try {
      request = encodeSpawn(id, spec);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + this.timeoutMs;
      this.pending.push({ id, spec, events, resolve, reject, deadline, pid: 0, openStreams: 2, hasExited: false });
      this.armDeadline();
      this.child.stdin.write(request);
    });
  }

  /** Stops reading process `id`'s output (backpressure); it blocks once its pipe fills. */
  pause(id: number): void {
    this.send("pause", id);
  }

  /** Reads process `id`'s output again. */
  resume(id: number): void {
    this.send("resume", id);
  }

  /** envd is done with process `id`: no more reports, and the spawner closes what it still holds for it. */
  forget(id: number): void {
    this.running.delete(id);
    this.send("forget", id);
  }

  /** Stops the spawner (its running processes keep running, unreported). Idempotent. */
  close(): void {
    this.die("spawner closed", true);
  }

  private send(command: "release" | "pause" | "resume" | "forget", id: number): void {
    if (this.deadReason === undefined) this.child.stdin.write(encodeControl(command, id));
  }

  /** The answer for the oldest pending spawn, or undefined (and the client dead) when `id` is not it. */
  private answered(id: number): Spawn | undefined {
    const spawn = this.pending[0];
    if (spawn?.id !== id) {
      this.die(`spawner answered request ${id}, expected ${spawn?.id ?? "none"}`);
      return undefined;
    }
    this.pending.shift();
    return spawn;
  }

  private onStarted(id: number, pid: number, stdinFd: number): void {
    const spawn = this.answered(id);
    if (!spawn) return;
    // Registered now, synchronously: its output and exit may follow in the same chunk.
    spawn.pid = pid;
    this.running.set(id, spawn);
    let ownStdinFd: number | undefined;
    if (stdinFd >= 0) {
      try {
        // libuv opens with O_CLOEXEC, so no process envd forks (PTYs, fallback spawns) inherits it.
        ownStdinFd = openSync(`/proc/${this.child.pid}/fd/${stdinFd}`, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      } catch (err) {
        // ENXIO: no reader left, the process already closed its stdin (or exited); writes will say so.
        if ((err as NodeJS.ErrnoException).code !== "ENXIO") {
          // Without its stdin the process cannot be served: stop it rather than leave it running unseen.
          this.forget(id);
          signalGroup(pid, "SIGKILL");
          spawn.reject(EnvdError.from(err));
          return;
        }
      } finally {
        this.send("release", id);
      }
    }
    spawn.resolve({ id, pid, stdinFd: ownStdinFd });
  }

  private onFailed(id: number, errno: number, stage: string): void {
    const spawn = this.answered(id);
    spawn?.reject(spawnError(errno, stage, spawn.spec));
  }

  private onEof(id: number, kind: "stdout" | "stderr"): void {
    const spawn = this.running.get(id);
    if (!spawn) return;
    spawn.openStreams -= 1;
    if (spawn.openStreams === 0 && spawn.hasExited) this.running.delete(id);
    spawn.events.onEof(kind);
  }

  private onExited(id: number, code: number, signal: number): void {
    const spawn = this.running.get(id);
    if (!spawn) return;
    spawn.hasExited = true;
    if (spawn.openStreams === 0) this.running.delete(id);
    spawn.events.onExit(signal === 0 ? { code, signal: null } : { code: null, signal });
  }

  private armDeadline(): void {
    const oldest = this.pending[0];
    if (this.deadlineTimer || !oldest) return;
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      const first = this.pending[0];
      if (first && Date.now() >= first.deadline) this.die(`spawner did not answer within ${this.timeoutMs} ms`);
      else this.armDeadline();
    }, oldest.deadline - Date.now());
    // Pending spawns keep envd busy anyway; an idle client must not hold a test (or envd) open.
    this.deadlineTimer.unref();
  }

  private die(reason: string, isExpected = false): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    if (!isExpected)
      this.log.warn({ pending: this.pending.length, running: this.running.size, reason }, "spawner stopped");
    this.child.kill("SIGKILL");
    clearTimeout(this.deadlineTimer);
    for (const spawn of this.pending.splice(0)) spawn.reject(new EnvdError("internal_error", reason));
    const running = [...this.running.values()];
    this.running.clear();
    // One that already exited keeps its exit status: its output just stops (it ends after the exit grace).
    for (const spawn of running) {
      if (spawn.hasExited) continue;
      // Its output went with the spawner and nobody would reap it: stop it rather than leave it running unseen
      // (it would leave envd's table, so no client could signal it any more).
      if (!isExpected) signalGroup(spawn.pid, "SIGKILL");
      spawn.events.onExit({ lost: reason });
    }
  }
}

/**
 * The EnvdError for a failed spawn: the one `checkSpawnable` gives where the other backends call it (envd does not
 * check before a spawner start: the spawner's chdir and exec answer the same questions), else as child_process's
 * errno error would map (see EnvdError.from).
 */
function spawnError(errno: number, stage: string, spec: SpawnSpec): EnvdError {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  if (stage === "exec" && code === "EACCES") {
    // execve answers EACCES for a directory too; say which it was, as a check beforehand would have.
    try {
      checkSpawnable(spec);
    } catch (err) {
      return err as EnvdError;
    }
  }
  const err = Object.assign(new Error(`spawn ${spec.file}: ${stage}: ${code}`), {
    code,
    errno: -errno,
    syscall: stage,
  });
  return EnvdError.from(err, stage === "chdir" ? `working directory ${spec.cwd}` : spec.cmd);
}
