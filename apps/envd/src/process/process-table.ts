import { errors } from "../errors.ts";
import { signalGroup } from "./backend.ts";
import type { ProcessHandle } from "./process-handle.ts";

/** How a client names a process: by pid or by tag. */
export type Selector = { pid: number } | { tag: string };

/** The processes envd is tracking right now. A process leaves the table when it ends. */
export class ProcessTable {
  private readonly byPid = new Map<number, ProcessHandle>();

  /** Adds a started process; it is removed automatically when it ends. */
  add(handle: ProcessHandle): void {
    this.byPid.set(handle.pid, handle);
    void handle.whenEnded().then(() => {
      if (this.byPid.get(handle.pid) === handle) this.byPid.delete(handle.pid);
    });
  }

  /** True if a running process carries `tag`. */
  hasTag(tag: string): boolean {
    for (const h of this.byPid.values()) if (h.tag === tag && !h.ended) return true;
    return false;
  }

  /** Finds a running process or throws not_found. */
  get(selector: Selector): ProcessHandle {
    if ("pid" in selector) {
      const h = this.byPid.get(selector.pid);
      if (h && !h.ended) return h;
      throw errors.processNotFound(`pid ${selector.pid}`);
    }
    for (const h of this.byPid.values()) if (h.tag === selector.tag && !h.ended) return h;
    throw errors.processNotFound(`tag ${JSON.stringify(selector.tag)}`);
  }

  /** Every running process. */
  list(): ProcessHandle[] {
    return [...this.byPid.values()].filter((h) => !h.ended);
  }

  /** Kills every process group (used on shutdown of a dev-mode envd and by tests). */
  killAll(): void {
    for (const h of this.list()) signalGroup(h.pid, "SIGKILL");
  }
}
