import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { EnvdError } from "../errors.ts";
import { startLineHelper } from "../line-helper.ts";
import type { Logger } from "../logger.ts";

/** Most seed bytes one `seed` command carries (the helper's limit, as in its one-shot mode). */
export const MAX_SEED_BYTES = 512;

/** Options of `SystemHelper.start`. */
export interface SystemHelperOptions {
  /** The helper binary, normally `/usr/local/bin/wrenn-reseed`. */
  path: string;
  /** Its arguments. Default `["--serve"]`. */
  args?: readonly string[];
  /** How long one command may wait for its answer line, ms; past it the helper is killed. Default 5000. */
  timeoutMs?: number;
  log: Logger;
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Client of `wrenn-reseed --serve`, the long-lived root helper that applies the RNG seed, clock and hostname
 * for /init without a process spawn each (~130 ms apiece under TCG). Commands go one line at a time: the next
 * is written only once the previous one's `ok` / `error <message>` line came back, so an answer always
 * belongs to the oldest pending command. When the helper exits, fails to start or misses a deadline, every
 * pending command is rejected and the client stays dead (`isAlive` false); callers fall back or start a new one.
 */
export class SystemHelper {
  private readonly queue: Pending[] = [];
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private deadReason: string | undefined;
  private readonly log: Logger;

  private readonly child: ChildProcessWithoutNullStreams;

  private constructor(options: SystemHelperOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.log = options.log;
    this.child = startLineHelper({
      path: options.path,
      args: options.args ?? ["--serve"],
      name: "system helper",
      log: options.log,
      onLine: (answer) => this.onAnswer(answer),
      onGone: (reason) => this.die(reason),
    });
  }

  /** Spawns the helper. A binary that cannot start shows up as a dead helper, not as a throw. */
  static start(options: SystemHelperOptions): SystemHelper {
    return new SystemHelper(options);
  }

  /** False once the helper exited, failed to start, timed out or was closed. */
  get isAlive(): boolean {
    return this.deadReason === undefined;
  }

  /** Credits `seed` (1..512 bytes) to the kernel pool and forces a CRNG reseed. */
  seed(seed: Buffer): Promise<void> {
    if (seed.length === 0 || seed.length > MAX_SEED_BYTES) {
      return Promise.reject(new EnvdError("invalid_argument", `seed must be 1..${MAX_SEED_BYTES} bytes`));
    }
    return this.request(`seed ${seed.toString("hex")}`);
  }

  /** Sets CLOCK_REALTIME to `unixMs` (a positive integer, ms since the epoch). */
  setClock(unixMs: number): Promise<void> {
    if (!Number.isSafeInteger(unixMs) || unixMs <= 0) {
      return Promise.reject(new EnvdError("invalid_argument", "clock must be positive integer unix ms"));
    }
    return this.request(`clock ${unixMs}`);
  }

  /** Sets the kernel hostname. */
  setHostname(name: string): Promise<void> {
    return this.request(`hostname ${name}`);
  }

  /**
   * Sends one command line (without its newline) and resolves on `ok`; rejects with internal_error on
   * `error …`, and when the helper dies before answering.
   */
  request(line: string): Promise<void> {
    if (/[\n\0]/.test(line)) {
      return Promise.reject(new EnvdError("invalid_argument", "a helper command is one line"));
    }
    if (this.deadReason !== undefined) return Promise.reject(new EnvdError("internal_error", this.deadReason));
    return new Promise((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      if (this.queue.length === 1) this.sendHead();
    });
  }

  /** Stops the helper (it is killed, pending commands rejected). Idempotent. */
  close(): void {
    this.die("system helper closed", true);
  }

  private sendHead(): void {
    const head = this.queue[0];
    if (!head) return;
    this.child.stdin.write(`${head.line}\n`);
    // A late answer would be taken for the next command's: a missed deadline ends the helper instead.
    this.timer = setTimeout(() => {
      this.die(`system helper did not answer within ${this.timeoutMs} ms`);
    }, this.timeoutMs);
  }

  private onAnswer(answer: string): void {
    if (this.deadReason !== undefined) return;
    // Anything but one answer to the command in flight means the two sides no longer agree: stop.
    const isAnswer = answer === "ok" || answer.startsWith("error ");
    if (this.queue.length === 0 || !isAnswer) {
      this.die(`system helper broke the protocol: ${JSON.stringify(answer.slice(0, 200))}`);
      return;
    }
    const head = this.queue.shift() as Pending;
    clearTimeout(this.timer);
    if (answer === "ok") head.resolve();
    else head.reject(new EnvdError("internal_error", `system helper: ${answer.slice(6)}`));
    this.sendHead();
  }

  private die(reason: string, isExpected = false): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    clearTimeout(this.timer);
    if (!isExpected) this.log.warn({ pending: this.queue.length, reason }, "system helper stopped");
    this.child.kill("SIGKILL");
    for (const p of this.queue.splice(0)) p.reject(new EnvdError("internal_error", reason));
  }
}
