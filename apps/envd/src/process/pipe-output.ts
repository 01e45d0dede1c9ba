import type { Readable } from "node:stream";
import type { BackendSink } from "./backend.ts";
import type { EndInfo } from "./subscription.ts";

/** How long output may stay idle after the process exited before envd stops waiting for its pipes, in ms. */
const EXIT_PIPE_GRACE_MS = 1000;

/**
 * Reads a pipe process's stdout and stderr into its sink and ends it at the right time: once the process
 * exited and both pipes closed (so the end comes after the last byte), or once it exited and the pipes went
 * quiet for a second (a background grandchild may hold them open forever; the reference ends the stream on
 * exit as well). Shared by the child_process and the wrenn-spawner backends.
 */
export class PipeOutput {
  private isPaused = false;
  private lastDataAt = Date.now();
  private isEnded = false;
  private openPipes = 2;
  private exit: EndInfo | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stdout: Readable,
    private readonly stderr: Readable,
    private readonly sink: BackendSink,
  ) {
    for (const [kind, stream] of [
      ["stdout", stdout],
      ["stderr", stderr],
    ] as const) {
      stream.on("data", (chunk: Buffer) => {
        this.lastDataAt = Date.now();
        sink.data(kind, chunk);
      });
      // A read error ends the pipe like EOF does; the exit status still tells how the process ended.
      stream.on("error", () => {});
      stream.once("close", () => {
        this.openPipes -= 1;
        this.finish();
      });
    }
  }

  /**
   * The process is gone: end once the pipes closed. With `hasGrace` (default) also once they stayed idle
   * for a second; without it (the exit is only a guess) only when they close.
   */
  exited(info: EndInfo, hasGrace = true): void {
    if (this.exit) return;
    this.exit = info;
    if (hasGrace) this.graceTimer = setTimeout(() => this.checkGrace(), EXIT_PIPE_GRACE_MS);
    this.finish();
  }

  /** Stops reading (backpressure): the process blocks once the kernel's pipe buffer fills. */
  pause(): void {
    this.isPaused = true;
    this.stdout.pause();
    this.stderr.pause();
  }

  resume(): void {
    this.isPaused = false;
    this.lastDataAt = Date.now();
    this.stdout.resume();
    this.stderr.resume();
  }

  private finish(): void {
    if (this.isEnded || !this.exit || this.openPipes > 0) return;
    this.end(this.exit);
  }

  private end(info: EndInfo): void {
    this.isEnded = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.sink.end(info);
  }

  private checkGrace(): void {
    this.graceTimer = undefined;
    // Judged only after this loop turn's I/O: when the event loop was busy for over a second (30 starts at once
    // under TCG), the late timer runs before the pipe reads already waiting, and output that was there all along
    // looked "quiet" and was cut off (seen in tests/e2e/envd-in-vm.test.ts: an `echo` lost, exit code kept).
    setImmediate(() => {
      if (this.isEnded || !this.exit) return;
      if (!this.isPaused && Date.now() - this.lastDataAt >= EXIT_PIPE_GRACE_MS) {
        this.stdout.destroy();
        this.stderr.destroy();
        this.end(this.exit);
        return;
      }
      this.graceTimer = setTimeout(() => this.checkGrace(), EXIT_PIPE_GRACE_MS);
    });
  }
}
