/**
 * A QMP client: newline-delimited JSON over the VM's unix socket. Reads the greeting, negotiates capabilities, then
 * runs commands (matched by id, each with a deadline) and emits asynchronous events.
 */
import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { AgentError } from "../../errors.ts";

/** One asynchronous QMP event. */
export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  command: string;
}

/** Connected QMP session. Emits `event` (QmpEvent) and `close`. */
export class QmpClient extends EventEmitter {
  #socket: Socket;
  #buffer = "";
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #greeting: ((v: unknown) => void) | undefined;
  #closed = false;

  private constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#onData(chunk));
    socket.on("close", () => this.#onClose(new AgentError("unavailable", "QMP connection closed")));
    socket.on("error", (err) => this.#onClose(new AgentError("unavailable", `QMP socket error: ${err.message}`)));
  }

  /** Connects, waits for the greeting and leaves capabilities negotiation done. */
  static async connect(path: string, timeoutMs: number): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new AgentError("timeout", `QMP connect to ${path} timed out`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const client = new QmpClient(socket);
    try {
      await client.#waitGreeting(timeoutMs);
      await client.execute("qmp_capabilities", undefined, timeoutMs);
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** True once the socket closed (the VM exited or close() was called). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Runs one command; resolves with its `return` value, rejects with the QMP error or on deadline. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.#closed) return Promise.reject(new AgentError("unavailable", `QMP closed; cannot run ${command}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AgentError("timeout", `QMP ${command} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, command });
      this.#socket.write(
        `${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`,
      );
    });
  }

  /** Closes the connection (the VM keeps running). */
  close(): void {
    if (this.#closed) return;
    this.#socket.destroy();
    this.#onClose(new AgentError("unavailable", "QMP connection closed by the agent"));
  }

  #waitGreeting(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AgentError("timeout", "no QMP greeting")), timeoutMs);
      this.#greeting = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once("close", () => {
        clearTimeout(timer);
        reject(new AgentError("unavailable", "QMP closed before its greeting"));
      });
    });
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line) this.#onMessage(line);
    }
  }

  #onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // QEMU never sends partial JSON per line; ignore garbage rather than kill the session.
    }
    if ("QMP" in msg) {
      this.#greeting?.(msg);
      this.#greeting = undefined;
      return;
    }
    if (typeof msg.event === "string") {
      this.emit("event", { event: msg.event, data: (msg.data ?? {}) as Record<string, unknown> } satisfies QmpEvent);
      return;
    }
    const id = typeof msg.id === "number" ? msg.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending || id === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if ("error" in msg) {
      const e = msg.error as { class?: string; desc?: string };
      pending.reject(
        new AgentError("internal_error", `QMP ${pending.command} failed: ${e.desc ?? e.class ?? "error"}`),
      );
    } else {
      pending.resolve(msg.return);
    }
  }

  #onClose(err: AgentError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
    this.emit("close");
  }
}
