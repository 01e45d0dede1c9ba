import type { ProcessBackend } from "./backend.ts";
import { OutputFanout } from "./output-fanout.ts";
import type { EndInfo, Subscription } from "./subscription.ts";

/** The request-level description of a process, echoed back by List. */
export interface ProcessDescription {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd: string | undefined;
}

/** Limits for every process's output fanout (see OutputFanout). */
export interface ProcessLimits {
  maxQueuedBytes?: number;
  stallLimitMs?: number;
}

/**
 * One process envd tracks: its backend, its output fanout, and its tag. It lives from spawn to the
 * end event; clients come and go (attach with `subscribe`) without affecting it.
 */
export class ProcessHandle {
  readonly fanout: OutputFanout;
  private backend: ProcessBackend | undefined;
  private endInfo: EndInfo | undefined;
  private readonly endWaiters: Array<(info: EndInfo) => void> = [];

  constructor(
    readonly description: ProcessDescription,
    readonly tag: string | undefined,
    limits: ProcessLimits = {},
  ) {
    this.fanout = new OutputFanout({
      ...limits,
      pause: () => this.backend?.pause(),
      resume: () => this.backend?.resume(),
    });
  }

  /**
   * Binds the started backend; output before this point was already routed through the fanout, and a client that
   * filled its queue meanwhile has the backend paused now.
   */
  attach(backend: ProcessBackend): void {
    this.backend = backend;
    if (this.fanout.isPaused) backend.pause();
  }

  /** OS pid; 0 before the backend is attached. */
  get pid(): number {
    return this.backend?.pid ?? 0;
  }

  get isPty(): boolean {
    return this.backend?.isPty ?? false;
  }

  /** The running backend; throws if called before `attach`. */
  get io(): ProcessBackend {
    if (!this.backend) throw new Error("process not started");
    return this.backend;
  }

  /** How the process ended, once it has. */
  get ended(): EndInfo | undefined {
    return this.endInfo;
  }

  /** Attaches a client from now on. */
  subscribe(): Subscription {
    return this.fanout.subscribe();
  }

  /** Called by the backend sink when the process is gone. */
  markEnded(info: EndInfo): void {
    if (this.endInfo) return;
    this.endInfo = info;
    this.fanout.end(info);
    for (const w of this.endWaiters.splice(0)) w(info);
  }

  /** Resolves when the process has ended. */
  whenEnded(): Promise<EndInfo> {
    if (this.endInfo) return Promise.resolve(this.endInfo);
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }
}
