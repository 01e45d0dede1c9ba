/**
 * An interactive terminal in a capsule over the `/pty` WebSocket. The process keeps running when the socket
 * closes; `capsule.ptyConnect(tag)` reattaches.
 */
import type WebSocket from "ws";
import { AbortError, errorFromStream, WrennError } from "./errors.ts";
import { EventQueue } from "./event-queue.ts";

/** One event of a PTY session. */
export type PtyEvent =
  | { type: "started"; tag: string; pid: number }
  | { type: "output"; data: Uint8Array }
  | { type: "exit"; exitCode: number }
  | { type: "error"; message: string; fatal: boolean };

/** Options of `capsule.pty()`. */
export interface PtyOptions {
  cmd?: string;
  args?: string[];
  cols?: number;
  rows?: number;
  envs?: Record<string, string>;
  cwd?: string;
  /** Called with each chunk of terminal output. */
  onData?: (data: Uint8Array) => void;
  /** Aborting closes the connection (the process keeps running) and rejects a pending start. */
  signal?: AbortSignal;
}

/** A PTY session. Iterate it for events or use `onData`; `wait()` resolves with the exit code. */
export class PtySession implements AsyncIterable<PtyEvent> {
  #ws: WebSocket;
  #queue = new EventQueue<PtyEvent>();
  #exit: Promise<number>;
  #tag = "";
  #pid = 0;

  /** @internal Use `capsule.pty()` / `capsule.ptyConnect()`. */
  constructor(ws: WebSocket, onData?: (data: Uint8Array) => void) {
    this.#ws = ws;
    this.#exit = new Promise<number>((resolve, reject) => {
      let exitCode: number | undefined;
      let fatal: WrennError | undefined;
      ws.on("message", (raw) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(String(raw));
        } catch {
          return;
        }
        switch (msg.type) {
          case "started":
            this.#tag = String(msg.tag ?? "");
            this.#pid = Number(msg.pid ?? 0);
            this.#queue.push({ type: "started", tag: this.#tag, pid: this.#pid });
            break;
          case "output": {
            const data = new Uint8Array(Buffer.from(String(msg.data ?? ""), "base64"));
            onData?.(data);
            this.#queue.push({ type: "output", data });
            break;
          }
          case "exit":
            exitCode = Number(msg.exit_code);
            this.#queue.push({ type: "exit", exitCode });
            ws.close();
            break;
          case "error": {
            const message = String(msg.data ?? "error");
            // session failures (unknown capsule, wrong state) carry a code and end the connection
            const isFatal = msg.fatal === true || typeof msg.code === "string";
            this.#queue.push({ type: "error", message, fatal: isFatal });
            if (isFatal) {
              fatal ??= errorFromStream(message, msg.code);
              ws.close();
            }
            break;
          }
          case "ping":
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "pong" }));
            break;
        }
      });
      ws.once("close", () => {
        if (exitCode !== undefined) {
          this.#queue.end();
          resolve(exitCode);
          return;
        }
        const err =
          fatal ?? new WrennError("stream_closed", "the terminal connection closed before the process exited");
        this.#queue.fail(err);
        reject(err);
      });
      ws.once("error", (err) => {
        fatal ??= WrennError.from(err);
      });
    });
    this.#exit.catch(() => {});
  }

  /** The session's tag (`pty-…`), usable with `capsule.ptyConnect()`. */
  get tag(): string {
    return this.#tag;
  }

  /** The process id inside the capsule. */
  get pid(): number {
    return this.#pid;
  }

  /** @internal Resolves when the server reports `started`; rejects on an early failure. */
  started(signal?: AbortSignal): Promise<this> {
    return new Promise((resolve, reject) => {
      if (this.#tag) return resolve(this);
      const onAbort = () => {
        this.close();
        reject(new AbortError("the terminal start was aborted"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const onMessage = (raw: unknown) => {
        if (this.#tag) {
          this.#ws.off("message", onMessage);
          signal?.removeEventListener("abort", onAbort);
          resolve(this);
        }
        void raw;
      };
      this.#ws.on("message", onMessage);
      this.#exit.then(
        () => resolve(this),
        (err) => reject(err),
      );
    });
  }

  /** Sends keystrokes or bytes to the terminal. */
  write(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    this.#send({ type: "input", data: bytes.toString("base64") });
  }

  /** Changes the terminal size; both values must be positive. */
  resize(cols: number, rows: number): void {
    if (!(cols > 0 && rows > 0)) throw new RangeError("cols and rows must be positive");
    this.#send({ type: "resize", cols: Math.floor(cols), rows: Math.floor(rows) });
  }

  /** Kills the process (SIGKILL). */
  kill(): void {
    this.#send({ type: "kill" });
  }

  /** Resolves with the exit code when the process exits. */
  wait(): Promise<number> {
    return this.#exit;
  }

  /** Closes the connection; the process keeps running and can be reattached by tag. */
  close(): void {
    if (this.#ws.readyState === this.#ws.OPEN || this.#ws.readyState === this.#ws.CONNECTING) this.#ws.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<PtyEvent> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** Kills the process and closes the connection. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#ws.readyState === this.#ws.OPEN) this.kill();
    const deadline = new Promise((r) => setTimeout(r, 5000).unref());
    await Promise.race([this.#exit.catch(() => {}), deadline]);
    this.close();
  }

  #send(msg: Record<string, unknown>): void {
    if (this.#ws.readyState !== this.#ws.OPEN) throw new WrennError("stream_closed", "the terminal is not connected");
    this.#ws.send(JSON.stringify(msg));
  }
}
