import type { Readable } from "node:stream";
import type { BackendSink } from "./backend.ts";
import type { EndInfo } from "./subscription.ts";

/** How long output may stay idle after the process exited before envd stops waiting for its pipes, in ms. */
const EXIT_PIPE_GRACE_MS = 1000;

/** Whatever reads a pipe process's stdout and stderr, as PipeOutput drives it. */
export interface PipeOutputSource {
  /** Stop reading both streams (backpressure): the process blocks once its pipe fills. */
  pause(): void;
  /** Read them again. */
  resume(): void;
  /** The exit grace ran out: stop reading and let go of the pipes (a background grandchild may hold them). */
  abandon(): void;
}

/**
 * A pipe process's output on its way to the sink, and the decision when it ends: once the process exited and
 * both streams closed (so the end comes after the last byte), or once it exited and output stayed idle for a
 * second (a background grandchild may hold the pipes open forever; the reference ends the stream on exit as
 * well). Fed by `data`/`closed`/`exited` calls: from Readables (`readPipeStreams`, the child_process backend)
 * or from the spawner's relay (the wrenn-spawner backend).
 */
export class PipeOutput {
  private isPaused = false;
  private lastDataAt = Date.now();
  private isEnded = false;
  private isStdoutOpen = true;
  private isStderrOpen = true;
  private exit: EndInfo | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: BackendSink,
    private readonly source: PipeOutputSource,
  ) {}

  /** Bytes the process wrote to `kind`. */
  data(kind: "stdout" | "stderr", chunk: Buffer): void {
    if (this.isEnded) return;
    this.lastDataAt = Date.now();
    this.sink.data(kind, chunk);
  }

  /** Stream `kind` reached EOF (or failed: the exit status still tells how the process ended). */
  closed(kind: "stdout" | "stderr"): void {
    if (kind === "stdout") this.isStdoutOpen = false;
    else this.isStderrOpen = false;
    this.finish();
  }

  /** The process is gone: end once both streams closed, or once they stayed idle for a second. */
  exited(info: EndInfo): void {
    if (this.exit) return;
    this.exit = info;
    this.finish();
    // Only when the streams are still open: most commands' output has ended by their exit, and a timer made and
    // cleared per command is JavaScript for nothing.
    if (!this.isEnded) this.graceTimer = setTimeout(() => this.checkGrace(), EXIT_PIPE_GRACE_MS);
  }

  /** The output is gone with its reader (the spawner died): end now with `info`. */
  lost(info: EndInfo): void {
    if (!this.isEnded) this.end(info);
  }

  /** Stops reading (backpressure): the process blocks once the kernel's pipe buffer fills. */
  pause(): void {
    if (this.isEnded) return;
    this.isPaused = true;
    this.source.pause();
  }

  resume(): void {
    if (this.isEnded) return;
    this.isPaused = false;
    this.lastDataAt = Date.now();
    this.source.resume();
  }

  private finish(): void {
    if (this.isEnded || !this.exit || this.isStdoutOpen || this.isStderrOpen) return;
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
        this.source.abandon();
        this.end(this.exit);
        return;
      }
      this.graceTimer = setTimeout(() => this.checkGrace(), EXIT_PIPE_GRACE_MS);
    });
  }
}

/** Feeds a PipeOutput from a child's stdout and stderr Readables (the child_process backend). */
export function readPipeStreams(stdout: Readable, stderr: Readable, sink: BackendSink): PipeOutput {
  const output = new PipeOutput(sink, {
    pause: () => {
      stdout.pause();
      stderr.pause();
    },
    resume: () => {
      stdout.resume();
      stderr.resume();
    },
    abandon: () => {
      stdout.destroy();
      stderr.destroy();
    },
  });
  for (const [kind, stream] of [
    ["stdout", stdout],
    ["stderr", stderr],
  ] as const) {
    stream.on("data", (chunk: Buffer) => output.data(kind, chunk));
    // A read error ends the stream like EOF does; the exit status still tells how the process ended.
    stream.on("error", () => {});
    stream.once("close", () => output.closed(kind));
  }
  return output;
}
