/**
 * `capsule.commands`: run commands in a capsule, in the foreground or background, streamed or collected.
 */
import { CommandStream, type CommandStreamOptions } from "./command-stream.ts";
import type { CommandHandle, CommandResult, ProcessInfo } from "./models.ts";
import { toCommandResult, toProcessInfo } from "./models.ts";
import type { Transport } from "./transport.ts";

/** Options of {@link Commands.run} and {@link Commands.stream}. */
export interface RunOptions {
  /** When given, `cmd` is the program and these its arguments; otherwise `cmd` is a shell script for `/bin/sh -c`. */
  args?: string[];
  envs?: Record<string, string>;
  cwd?: string;
  /** Deadline of a foreground command in seconds (default 30; 0 = none for streamed commands). */
  timeoutSec?: number;
  /** Start in the background and return a {@link CommandHandle} at once. */
  background?: boolean;
  /** Tag of a background process (default `proc-` + 8 hex, chosen by the server). */
  tag?: string;
  /** Called with each stdout chunk as it arrives (switches to the streaming route). */
  onStdout?: (data: string) => void;
  /** Called with each stderr chunk as it arrives (switches to the streaming route). */
  onStderr?: (data: string) => void;
  signal?: AbortSignal;
}

/** Signals accepted by {@link Commands.kill}. */
export type ProcessSignal = "SIGKILL" | "SIGTERM";

/** Runs and manages processes in one capsule. */
export class Commands {
  #t: Transport;
  #base: string;

  /** @internal */
  constructor(transport: Transport, capsuleId: string) {
    this.#t = transport;
    this.#base = `/v1/capsules/${encodeURIComponent(capsuleId)}`;
  }

  /** Runs a command and waits for it; with `background: true`, starts it and returns its pid and tag. */
  run(cmd: string, options: RunOptions & { background: true }): Promise<CommandHandle>;
  run(cmd: string, options?: RunOptions & { background?: false }): Promise<CommandResult>;
  run(cmd: string, options?: RunOptions): Promise<CommandResult | CommandHandle>;
  async run(cmd: string, options: RunOptions = {}): Promise<CommandResult | CommandHandle> {
    if (options.background) {
      const body = await this.#t.json<Record<string, unknown>>(`${this.#base}/exec`, {
        json: {
          ...this.#program(cmd, options.args),
          background: true,
          tag: options.tag,
          envs: options.envs,
          cwd: options.cwd,
        },
        signal: options.signal,
      });
      return { pid: Number(body.pid), tag: String(body.tag ?? "") };
    }
    if (options.onStdout || options.onStderr) {
      return (await this.stream(cmd, { timeoutSec: 30, ...options })).wait();
    }
    const timeoutSec = options.timeoutSec ?? 30;
    const body = await this.#t.json<Record<string, unknown>>(`${this.#base}/exec`, {
      json: {
        ...this.#program(cmd, options.args),
        envs: options.envs,
        cwd: options.cwd,
        // the route needs 1..86400; 0 means "no deadline" to the SDK
        timeout_sec: timeoutSec > 0 ? timeoutSec : 86_400,
      },
      signal: options.signal,
      timeoutMs: timeoutSec > 0 ? (timeoutSec + 10) * 1000 : 0,
    });
    return toCommandResult(body);
  }

  /**
   * Starts a command over the exec WebSocket. Iterate the returned stream for live events, or `await .wait()`.
   * `timeoutSec` here defaults to none.
   */
  async stream(cmd: string, options: RunOptions = {}): Promise<CommandStream> {
    const ws = this.#t.socket(`${this.#base}/exec/stream`);
    const stream = new CommandStream(ws, streamOptions(options));
    await this.#t.opened(ws, options.signal);
    ws.send(
      JSON.stringify({
        type: "start",
        ...this.#program(cmd, options.args),
        envs: options.envs,
        cwd: options.cwd,
        // the deadline is enforced here (see CommandStream) so it surfaces as TimeoutError
      }),
    );
    return stream;
  }

  /** Attaches to a running (background) process by pid or tag and streams its output from now on. */
  async connect(pidOrTag: number | string, options: CommandStreamOptions = {}): Promise<CommandStream> {
    const ws = this.#t.socket(`${this.#base}/processes/${encodeURIComponent(pidOrTag)}/stream`);
    const stream = new CommandStream(ws, options);
    await this.#t.opened(ws, options.signal);
    return stream;
  }

  /** Lists the processes envd tracks in the capsule. */
  async list(options: { signal?: AbortSignal } = {}): Promise<ProcessInfo[]> {
    const body = await this.#t.json<{ processes?: Record<string, unknown>[] }>(`${this.#base}/processes`, options);
    return (body.processes ?? []).map(toProcessInfo);
  }

  /** Sends a signal (default SIGKILL) to a process chosen by pid (a number) or tag (a string). */
  async kill(pidOrTag: number | string, signal: ProcessSignal = "SIGKILL", options: { signal?: AbortSignal } = {}) {
    await this.#t.request(`${this.#base}/processes/${encodeURIComponent(pidOrTag)}`, {
      method: "DELETE",
      query: { signal },
      signal: options.signal,
    });
  }

  /** With `args`, `cmd` is the program; without, `cmd` is a shell script run by `/bin/sh -c`. */
  #program(cmd: string, args?: string[]) {
    return args ? { cmd, args } : { cmd: "/bin/sh", args: ["-c", cmd] };
  }
}

function streamOptions(o: RunOptions): CommandStreamOptions {
  return { onStdout: o.onStdout, onStderr: o.onStderr, timeoutSec: o.timeoutSec, signal: o.signal };
}
