/**
 * A running command seen through a WebSocket (`/exec/stream` or `/processes/{selector}/stream`):
 * iterate its events with `for await`, or just `await stream.wait()` for the collected result.
 */
import type WebSocket from "ws";
import { AbortError, errorFromStream, TimeoutError, WrennError } from "./errors.ts";
import { EventQueue } from "./event-queue.ts";
import type { CommandResult } from "./models.ts";

/** One event of a streamed command. */
export type CommandEvent =
  | { type: "start"; pid: number }
  | { type: "stdout"; data: string }
  | { type: "stderr"; data: string }
  | { type: "exit"; exitCode: number }
  | { type: "error"; message: string };

/** Options of a command stream. */
export interface CommandStreamOptions {
  onStdout?: (data: string) => void;
  onStderr?: (data: string) => void;
  /** Stops the command (and fails `wait()` with TimeoutError) after this many seconds; 0 = none. */
  timeoutSec?: number;
  /** Aborting stops the command and fails `wait()` with AbortError. */
  signal?: AbortSignal;
  /** Keep stdout/stderr for `wait()` (default true); turn off for endless output you only iterate. */
  collect?: boolean;
}

/** A streamed command. Owns its WebSocket; the socket closes when the command exits or on `stop()`. */
export class CommandStream implements AsyncIterable<CommandEvent> {
  #ws: WebSocket;
  #queue = new EventQueue<CommandEvent>();
  #stdout: string[] = [];
  #stderr: string[] = [];
  #startedAt = Date.now();
  #result: Promise<CommandResult>;
  #pid: Promise<number>;
  #timer: NodeJS.Timeout | undefined;

  /** @internal Built by `commands.stream()` and `commands.connect()`. */
  constructor(ws: WebSocket, options: CommandStreamOptions = {}) {
    this.#ws = ws;
    const collect = options.collect ?? true;
    let resolvePid!: (pid: number) => void;
    let rejectPid!: (e: unknown) => void;
    this.#pid = new Promise((res, rej) => {
      resolvePid = res;
      rejectPid = rej;
    });
    this.#pid.catch(() => {});
    this.#result = new Promise<CommandResult>((resolve, reject) => {
      let exitCode: number | undefined;
      // failure: abort, timeout or a broken socket (always fatal); reported: an error event from the server,
      // fatal only when no exit follows (the server may report an error text and then the exit).
      let failure: WrennError | undefined;
      let reported: WrennError | undefined;
      const finish = () => {
        clearTimeout(this.#timer);
        options.signal?.removeEventListener("abort", onAbort);
        rejectPid(failure ?? reported ?? new WrennError("stream_closed", "the command ended before it started"));
        if (failure) {
          this.#queue.fail(failure);
          reject(failure);
        } else if (exitCode === undefined) {
          const err = reported ?? new WrennError("stream_closed", "the connection closed before the command exited");
          this.#queue.fail(err);
          reject(err);
        } else {
          this.#queue.end();
          resolve({
            stdout: this.#stdout.join(""),
            stderr: this.#stderr.join(""),
            exitCode,
            durationMs: Date.now() - this.#startedAt,
          });
        }
      };
      const onAbort = () => {
        failure ??= new AbortError("the command was aborted", { cause: options.signal?.reason });
        this.stop();
      };
      if (options.signal?.aborted) queueMicrotask(onAbort);
      else options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.timeoutSec && options.timeoutSec > 0) {
        this.#timer = setTimeout(() => {
          failure ??= new TimeoutError(`the command did not finish within ${options.timeoutSec} s`);
          this.stop();
        }, options.timeoutSec * 1000);
      }
      ws.on("message", (raw) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(String(raw));
        } catch {
          return;
        }
        switch (msg.type) {
          case "start":
            resolvePid(Number(msg.pid));
            this.#queue.push({ type: "start", pid: Number(msg.pid) });
            break;
          case "stdout": {
            const data = String(msg.data ?? "");
            if (collect) this.#stdout.push(data);
            options.onStdout?.(data);
            this.#queue.push({ type: "stdout", data });
            break;
          }
          case "stderr": {
            const data = String(msg.data ?? "");
            if (collect) this.#stderr.push(data);
            options.onStderr?.(data);
            this.#queue.push({ type: "stderr", data });
            break;
          }
          case "exit":
            exitCode = Number(msg.exit_code);
            this.#queue.push({ type: "exit", exitCode });
            ws.close();
            break;
          case "error": {
            const message = String(msg.data ?? msg.message ?? "error");
            this.#queue.push({ type: "error", message });
            reported ??= errorFromStream(message, msg.code);
            break;
          }
        }
      });
      ws.once("close", finish);
      ws.once("error", (err) => {
        failure ??= WrennError.from(err);
      });
    });
    this.#result.catch(() => {});
  }

  /** The process id, once the server reports the start. */
  get pid(): Promise<number> {
    return this.#pid;
  }

  /** Resolves with the collected output and exit code when the command exits. */
  wait(): Promise<CommandResult> {
    return this.#result;
  }

  /** Asks the server to stop the command (exec streams) and closes the connection. */
  stop(): void {
    if (this.#ws.readyState === this.#ws.OPEN) {
      this.#ws.send(JSON.stringify({ type: "stop" }));
      this.#ws.close();
    } else if (this.#ws.readyState === this.#ws.CONNECTING) this.#ws.terminate();
  }

  [Symbol.asyncIterator](): AsyncIterator<CommandEvent> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** Stops the command if it is still running. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
    await this.#result.catch(() => {});
  }
}
