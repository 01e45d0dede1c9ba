/**
 * `Capsule`: a microVM you create, run commands in, move files to and from, pause, resume and destroy.
 *
 * ```ts
 * await using capsule = await Capsule.create();
 * const r = await capsule.commands.run("echo hi");
 * ```
 */
import { type CallOptions, type CreateCapsuleParams, WrennClient } from "./client.ts";
import { Commands } from "./commands.ts";
import type { ConnectionOptions } from "./config.ts";
import { InvalidStateError, TimeoutError, WrennError } from "./errors.ts";
import { Files } from "./files.ts";
import type { CapsuleInfo, TemplateInfo } from "./models.ts";
import { type PtyOptions, PtySession } from "./pty.ts";

/** Options of {@link Capsule.create}. */
export interface CapsuleCreateOptions extends CreateCapsuleParams, ConnectionOptions {
  signal?: AbortSignal;
  /** How long to wait for the capsule to be `running` (default 120 s). */
  readyTimeoutMs?: number;
}

/** Options of calls that only need a connection. */
export interface CapsuleConnectOptions extends ConnectionOptions {
  signal?: AbortSignal;
}

const POLL_MS = 500;

/** A capsule you hold a handle to. Create one with {@link Capsule.create} or {@link Capsule.connect}. */
export class Capsule {
  /** The capsule id (`cl-…`). */
  readonly id: string;
  /** Run and manage processes. */
  readonly commands: Commands;
  /** Read and write files. */
  readonly files: Files;
  #client: WrennClient;
  #info: CapsuleInfo;

  private constructor(client: WrennClient, info: CapsuleInfo) {
    this.#client = client;
    this.#info = info;
    this.id = info.id;
    this.commands = new Commands(client.transport, info.id);
    this.files = new Files(client.transport, info.id);
  }

  /** Creates a capsule and waits until it is running. */
  static async create(options: CapsuleCreateOptions = {}): Promise<Capsule> {
    const client = new WrennClient(options);
    const info = await client.capsules.create(options, { signal: options.signal });
    const capsule = new Capsule(client, info);
    if (info.status !== "running")
      await capsule.waitReady({ timeoutMs: options.readyTimeoutMs, signal: options.signal });
    return capsule;
  }

  /** Connects to an existing capsule; a paused capsule is resumed. */
  static async connect(id: string, options: CapsuleConnectOptions = {}): Promise<Capsule> {
    const client = new WrennClient(options);
    let info = await client.capsules.get(id, { signal: options.signal });
    if (info.status === "paused") info = await client.capsules.resume(id, { signal: options.signal });
    return new Capsule(client, info);
  }

  /** Lists the team's capsules that are not stopped. */
  static list(options: CapsuleConnectOptions = {}): Promise<CapsuleInfo[]> {
    return new WrennClient(options).capsules.list({ signal: options.signal });
  }

  /** The last known state (refreshed by {@link getInfo}, pause, resume). */
  get info(): CapsuleInfo {
    return this.#info;
  }

  /** Fetches the current state. */
  async getInfo(options: CallOptions = {}): Promise<CapsuleInfo> {
    this.#info = await this.#client.capsules.get(this.id, options);
    return this.#info;
  }

  /** True when the capsule is running. */
  async isRunning(options: CallOptions = {}): Promise<boolean> {
    return (await this.getInfo(options)).status === "running";
  }

  /** Polls until the capsule is running; throws on `error`/`stopped` or at the deadline. */
  async waitReady(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<CapsuleInfo> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const info = await this.getInfo({ signal: options.signal });
      if (info.status === "running") return info;
      if (info.status === "error" || info.status === "stopped") {
        throw new InvalidStateError("invalid_state", `capsule ${this.id} is ${info.status}`, { status: 409 });
      }
      if (Date.now() > deadline) throw new TimeoutError(`capsule ${this.id} is still ${info.status}`);
      await sleep(POLL_MS, options.signal);
    }
  }

  /** Pauses the capsule to disk (memory and filesystem kept). */
  async pause(options: CallOptions = {}): Promise<CapsuleInfo> {
    this.#info = await this.#client.capsules.pause(this.id, options);
    return this.#info;
  }

  /** Resumes a paused capsule where it left off. */
  async resume(options: CallOptions = {}): Promise<CapsuleInfo> {
    this.#info = await this.#client.capsules.resume(this.id, options);
    return this.#info;
  }

  /** Resets the inactivity timer. */
  ping(options: CallOptions = {}): Promise<void> {
    return this.#client.capsules.ping(this.id, options);
  }

  /** Destroys the capsule and everything in it. */
  async destroy(options: CallOptions = {}): Promise<void> {
    await this.#client.capsules.destroy(this.id, options);
    this.#info = { ...this.#info, status: "stopped" };
  }

  /** Turns the capsule into a reusable template; the capsule is paused afterwards. */
  createSnapshot(
    params: { name?: string; overwrite?: boolean } = {},
    options: CallOptions = {},
  ): Promise<TemplateInfo> {
    return this.#client.snapshots.create(this.id, params, options);
  }

  /** Opens an interactive terminal (default `/bin/bash`, 80×24) and resolves once it has started. */
  async pty(options: PtyOptions = {}): Promise<PtySession> {
    const ws = this.#client.transport.socket(`/v1/capsules/${encodeURIComponent(this.id)}/pty`);
    const session = new PtySession(ws, options.onData);
    await this.#client.transport.opened(ws, options.signal);
    ws.send(
      JSON.stringify({
        type: "start",
        cmd: options.cmd ?? "/bin/bash",
        args: options.args ?? [],
        cols: options.cols ?? 80,
        rows: options.rows ?? 24,
        envs: options.envs ?? {},
        cwd: options.cwd ?? "",
      }),
    );
    return session.started(options.signal);
  }

  /** Reattaches to a terminal that is still running, by its tag. */
  async ptyConnect(tag: string, options: Pick<PtyOptions, "onData" | "signal"> = {}): Promise<PtySession> {
    const ws = this.#client.transport.socket(`/v1/capsules/${encodeURIComponent(this.id)}/pty`);
    const session = new PtySession(ws, options.onData);
    await this.#client.transport.opened(ws, options.signal);
    ws.send(JSON.stringify({ type: "connect", tag }));
    return session.started(options.signal);
  }

  /** Destroys the capsule when an `await using` block ends; a capsule already gone is not an error. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.destroy();
    } catch (err) {
      if (!(err instanceof WrennError && err.status === 404)) throw err;
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(WrennError.from(Object.assign(new Error("aborted"), { name: "AbortError" })));
      },
      { once: true },
    );
  });
}
