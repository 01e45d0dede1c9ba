/**
 * Every 2 s: capsules past their inactivity timeout go to the inactivity hook (auto-pause, reference §5), and
 * capsules whose VM died are handed to `onDead` for cleanup. Capsules in the middle of a lifecycle operation are
 * left alone (a pause kills the VM on purpose).
 */
import type { Logger } from "../log.ts";
import type { Capsule } from "./capsule.ts";

/** Called for a running capsule past its timeout; the hook sets `autoPauseRetryAtMs` when it must wait to retry. */
export type InactivityHook = (capsule: Capsule) => void | Promise<void>;

/** Reaper inputs. */
export interface ReaperDeps {
  capsules(): Capsule[];
  readonly onInactive: InactivityHook;
  onDead(capsule: Capsule): Promise<void>;
  readonly log: Logger;
  /** Default 2000 ms (the reference's TTL reaper interval). */
  readonly intervalMs?: number;
}

/** Creates a stopped reaper. */
export function createReaper(deps: ReaperDeps) {
  let timer: NodeJS.Timeout | undefined;
  let busy = false;

  async function tick(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const now = Date.now();
      for (const c of deps.capsules()) {
        if (c.isDestroying || c.operation) continue;
        if (!c.vm.isAlive()) {
          await deps
            .onDead(c)
            .catch((err) => deps.log.error({ err, capsuleId: c.id }, "cleanup of dead capsule failed"));
        } else if (c.record.status === "running" && c.isInactive(now) && now >= c.autoPauseRetryAtMs) {
          await Promise.resolve(deps.onInactive(c)).catch((err) =>
            deps.log.error({ err, capsuleId: c.id }, "inactivity hook failed"),
          );
        }
      }
    } finally {
      busy = false;
    }
  }

  return {
    start() {
      timer ??= setInterval(() => void tick(), deps.intervalMs ?? 2000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    tick,
  };
}
