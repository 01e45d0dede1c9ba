/**
 * A child process of the local stack (control plane or host agent): its own process group, output appended to a
 * log file, a pid file, and a `stop()` that asks politely (SIGTERM) and then insists (SIGKILL) after a deadline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** How to start one child. */
export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  pidFile: string;
}

/** A running child. Stop it with {@link ManagedProcess.stop}. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  #child: ChildProcess;
  #pidFile: string;
  #exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  private constructor(child: ChildProcess, options: ManagedProcessOptions) {
    this.name = options.name;
    this.pid = child.pid ?? 0;
    this.logFile = options.logFile;
    this.#child = child;
    this.#pidFile = options.pidFile;
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exitCode = code ?? (signal ? 128 : null);
        resolve(this.#exitCode);
      });
    });
  }

  /** Starts the child in its own process group (so Ctrl-C in the terminal reaches only `wrenn`). */
  static start(options: ManagedProcessOptions): ManagedProcess {
    mkdirSync(dirname(options.logFile), { recursive: true });
    mkdirSync(dirname(options.pidFile), { recursive: true });
    const fd = openSync(options.logFile, "a");
    try {
      const child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
      if (!child.pid) throw new Error(`could not start ${options.name} (${options.command})`);
      writeFileSync(options.pidFile, `${child.pid}\n`);
      return new ManagedProcess(child, options);
    } finally {
      closeSync(fd);
    }
  }

  /** True while the child runs. */
  get isRunning(): boolean {
    return this.#exitCode === undefined;
  }

  /** Resolves with the exit code when the child exits. */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** Lets `wrenn` exit while the child keeps running (detached mode). */
  detach(): void {
    this.#child.unref();
  }

  /** The last `lines` lines of the log, for error messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; removes the pid file. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.isRunning) {
      signalGroup(this.pid, "SIGTERM");
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
      if ((await Promise.race([this.#exited, timer])) === "timeout") {
        signalGroup(this.pid, "SIGKILL");
        await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      }
    }
    rmSync(this.#pidFile, { force: true });
  }
}

/** Signals a process group, falling back to the process itself; a process already gone is fine. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
