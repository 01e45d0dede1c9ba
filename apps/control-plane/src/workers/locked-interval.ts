import type { Logger } from "pino";
import type { LockSession } from "../db/database.ts";

/** Advisory-lock keys of the control plane's background jobs (one per job, never reused). */
export const LOCK_KEYS = { hostMonitor: 7_301_001, channelDispatcher: 7_301_004 } as const;

/** A job that runs every `intervalMs`, only in the replica holding its advisory lock. */
export interface LockedIntervalOptions {
  name: string;
  lockKey: number;
  intervalMs: number;
  locks: LockSession;
  log: Logger;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * Runs a job now and then every interval. Each tick first takes (or re-confirms) a session-level
 * `pg_try_advisory_lock`; the holder keeps it until its connection ends, so with N replicas the
 * job runs in exactly one, and another takes over within one interval if that one dies.
 */
export class LockedInterval {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private readonly abort = new AbortController();

  constructor(private readonly opts: LockedIntervalOptions) {}

  start(): void {
    const tick = () => {
      if (this.running || this.abort.signal.aborted) return;
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Runs one tick now (tests, and a host coming back). Returns whether this replica held the lock. */
  async tick(): Promise<boolean> {
    const { locks, lockKey, log, name } = this.opts;
    if (!(await locks.tryLock(lockKey))) return false;
    try {
      await this.opts.run(this.abort.signal);
    } catch (err) {
      log.error({ err, job: name }, "background job failed");
    }
    return true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.running;
    await this.opts.locks.unlock(this.opts.lockKey).catch(() => {});
  }
}
