import { constants } from "node:os";
import type { EndInfo } from "./subscription.ts";

/** A running OS process behind a ProcessHandle: a child on pipes, or a child on a PTY. */
export interface ProcessBackend {
  readonly pid: number;
  readonly isPty: boolean;
  /** Writes to stdin (pipes) or the terminal (PTY); resolves once the bytes were handed to the kernel. */
  write(data: Buffer): Promise<void>;
  /** Closes stdin (pipes only). */
  closeStdin(): void;
  /** Changes the terminal size (PTY only). */
  resize(cols: number, rows: number): void;
  /** Stops reading output (backpressure); the process blocks once the kernel buffer fills. */
  pause(): void;
  resume(): void;
}

/** Where a backend delivers output and its end. */
export interface BackendSink {
  data(kind: "stdout" | "stderr" | "pty", data: Buffer): void;
  end(info: EndInfo): void;
}

/** What to start: everything already resolved (absolute cwd, full env, ids). */
export interface SpawnSpec {
  /** The command as the caller gave it (errors name it so). */
  cmd: string;
  /** Absolute path of the executable (resolved against PATH beforehand). */
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  uid: number | undefined;
  gid: number | undefined;
  /** Keep stdin open for input. */
  stdin: boolean;
}

const SIGNAL_WORDS: Record<string, string> = {
  SIGKILL: "killed",
  SIGTERM: "terminated",
  SIGINT: "interrupt",
  SIGHUP: "hangup",
  SIGPIPE: "broken pipe",
  SIGSEGV: "segmentation fault",
  SIGABRT: "aborted",
  SIGQUIT: "quit",
  SIGUSR1: "user defined signal 1",
  SIGUSR2: "user defined signal 2",
};

/** Builds the EndEvent contents the way the reference (Go's ProcessState) words them. */
export function endInfoFrom(code: number | null, signal: NodeJS.Signals | number | null | undefined): EndInfo {
  if (signal !== null && signal !== undefined && signal !== 0) {
    const name =
      typeof signal === "number"
        ? (Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`)
        : signal;
    return { exitCode: -1, exited: false, status: `signal: ${SIGNAL_WORDS[name] ?? name}` };
  }
  const exitCode = code ?? -1;
  return { exitCode, exited: true, status: `exit status ${exitCode}` };
}

/** Signals a process's whole group, falling back to the process alone if the group is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    try {
      process.kill(pid, signal);
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code !== "ESRCH") throw inner;
    }
  }
}
