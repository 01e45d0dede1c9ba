import { spawn } from "node:child_process";
import { BuildError } from "./build-error.ts";

/** Options for {@link runCommand}. */
export interface RunCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes written to the child's stdin (stdin is closed after them; /dev/null when absent). */
  input?: string | Buffer;
  /** Called for every complete output line (stdout and stderr), e.g. to drive a progress indicator. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Hard deadline in milliseconds; the child is killed (SIGTERM, then SIGKILL after 5 s) when it passes. Default 30 min. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** What to tell the operator when the command fails ("apt-get install -y debootstrap"). */
  hint?: string;
}

/** What a finished command printed; stdout is kept whole (up to 64 MiB), stderr as its last 8 KiB. */
export interface RunCommandResult {
  stdout: string;
  stderrTail: string;
}

const STDOUT_CAP = 64 * 1024 * 1024;
const STDERR_TAIL = 8 * 1024;

/**
 * Runs one program to completion without a shell and resolves with its output, or rejects with a
 * BuildError (`command_failed`, `timeout`, `aborted`, `missing_tool`) whose message quotes the end of stderr.
 */
export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: RunCommandOptions = {},
): Promise<RunCommandResult> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const shown = [cmd, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderrTail = "";
    let failure: BuildError | undefined;
    const partial = { stdout: "", stderr: "" };
    const feed = (stream: "stdout" | "stderr", chunk: string) => {
      if (stream === "stdout" && stdout.length < STDOUT_CAP) stdout += chunk;
      if (stream === "stderr") stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL);
      if (!opts.onLine) return;
      const lines = (partial[stream] + chunk).split("\n");
      partial[stream] = lines.pop() ?? "";
      for (const line of lines) opts.onLine(line, stream);
    };
    child.stdout?.setEncoding("utf8").on("data", (c: string) => feed("stdout", c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => feed("stderr", c));
    if (opts.input !== undefined) child.stdin?.end(opts.input);

    let killTimer: NodeJS.Timeout | undefined;
    const kill = (err: BuildError) => {
      failure ??= err;
      child.kill("SIGTERM");
      killTimer ??= setTimeout(() => child.kill("SIGKILL"), 5_000);
    };
    const deadline = setTimeout(
      () =>
        kill(new BuildError("timeout", `${shown} did not finish within ${Math.round(timeoutMs / 1000)} s`, opts.hint)),
      timeoutMs,
    );
    const onAbort = () => kill(new BuildError("aborted", `${shown} was aborted`));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    const finish = () => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (err: NodeJS.ErrnoException) => {
      finish();
      // EACCES: not in any readable PATH entry, or found but not executable; either way not runnable.
      if (err.code === "ENOENT" || err.code === "EACCES") {
        reject(new BuildError("missing_tool", `${cmd} is not installed (${err.code})`, opts.hint, { cause: err }));
      } else reject(new BuildError("command_failed", `${shown}: ${err.message}`, opts.hint, { cause: err }));
    });
    child.on("close", (code, signal) => {
      finish();
      for (const stream of ["stdout", "stderr"] as const) if (partial[stream]) opts.onLine?.(partial[stream], stream);
      if (failure) return reject(failure);
      if (code === 0) return resolve({ stdout, stderrTail });
      const why = code === null ? `was killed by ${signal}` : `exited with status ${code}`;
      const tail = stderrTail.trim().split("\n").slice(-15).join("\n");
      reject(new BuildError("command_failed", `${shown} ${why}${tail ? `:\n${tail}` : ""}`, opts.hint));
    });
  });
}
