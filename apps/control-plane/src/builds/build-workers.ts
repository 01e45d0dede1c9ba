import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../db/schema.ts";
import { PLATFORM_TEAM_ID } from "../ids.ts";
import type { CapsuleService } from "../services/capsule-service.ts";
import { type BuildRunnerDeps, runBuild } from "./build-runner.ts";
import type { BuildService } from "./build-service.ts";
import {
  type BuildRow,
  claimPendingBuild,
  dropArchive,
  failLapsedBuilds,
  finishBuild,
  renewLease,
} from "./build-store.ts";

/** Build workers per control plane (reference §14). */
export const BUILD_WORKERS = 2;

/** Options of {@link BuildWorkers}. */
export interface BuildWorkersOptions {
  db: Kysely<Database>;
  log: Logger;
  builds: Pick<BuildService, "onQueued" | "trackRun">;
  capsules: Pick<CapsuleService, "destroy">;
  /** Runs one claimed build; default {@link runBuild} with `runner`. Tests pass their own. */
  run?: (build: BuildRow, signal: AbortSignal) => Promise<void>;
  runner?: BuildRunnerDeps;
  /** Concurrent builds in this process (default {@link BUILD_WORKERS}). */
  count?: number;
  /** How often an idle worker looks for pending builds, in ms (default 2000). */
  pollMs?: number;
  /** How long a running build's claim lasts without renewal, in ms (default 60 000). */
  leaseMs?: number;
  /** How often a running build's lease is renewed, in ms (default 10 000). */
  renewMs?: number;
}

/**
 * The build queue's consumers: `count` loops that claim pending builds from PostgreSQL (`FOR UPDATE SKIP LOCKED`,
 * so several control planes never run one build twice) and run them under a renewed lease. Each loop also fails
 * builds whose lease lapsed (a control plane died mid-build) and destroys their capsules. `stop()` aborts the builds
 * running here and records them as failed.
 */
export class BuildWorkers {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();
  private unsubscribe?: () => void;

  constructor(private readonly opts: BuildWorkersOptions) {}

  start(): void {
    this.unsubscribe = this.opts.builds.onQueued(() => {
      for (const wake of this.wakers) wake();
    });
    for (let i = 0; i < (this.opts.count ?? BUILD_WORKERS); i++) this.loops.push(this.loop(i));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.abort.abort(new Error("control plane shutting down"));
    for (const wake of this.wakers) wake();
    await Promise.all(this.loops);
  }

  private async loop(worker: number): Promise<void> {
    const { db, log } = this.opts;
    while (!this.abort.signal.aborted) {
      try {
        await this.failLapsed();
        const build = await claimPendingBuild(db, this.opts.leaseMs ?? 60_000);
        if (build) {
          await this.runClaimed(build, worker);
          continue;
        }
      } catch (err) {
        log.error({ err, worker }, "build worker iteration failed");
      }
      await this.idle();
    }
  }

  /** Waits one poll interval, or less when a build is queued here or the workers stop. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.pollMs ?? 2000);
      this.wakers.add(done);
    });
  }

  private async runClaimed(build: BuildRow, worker: number): Promise<void> {
    const { db, log } = this.opts;
    const leaseMs = this.opts.leaseMs ?? 60_000;
    const controller = new AbortController();
    const onStop = () => controller.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener("abort", onStop, { once: true });
    const untrack = this.opts.builds.trackRun(build.id, controller);
    // Renewal doubles as the cancel check for builds cancelled through another control plane.
    const renew = setInterval(() => {
      renewLease(db, build.id, leaseMs)
        .then((running) => {
          if (!running) controller.abort(new Error("build is no longer running"));
        })
        .catch((err) => log.warn({ err, buildId: build.id }, "build lease not renewed"));
    }, this.opts.renewMs ?? 10_000);
    try {
      const run = this.opts.run ?? ((b: BuildRow, s: AbortSignal) => runBuild(this.requireRunner(), b, s));
      await run(build, controller.signal);
    } finally {
      clearInterval(renew);
      untrack();
      this.abort.signal.removeEventListener("abort", onStop);
    }
    if (this.abort.signal.aborted) {
      await finishBuild(db, build.id, { status: "failed", error: "the control plane stopped during the build" });
    }
    log.debug({ worker, buildId: build.id }, "build worker done");
  }

  private requireRunner(): BuildRunnerDeps {
    if (!this.opts.runner) throw new Error("BuildWorkers: neither run nor runner given");
    return this.opts.runner;
  }

  private async failLapsed(): Promise<void> {
    const { db, log, capsules } = this.opts;
    for (const b of await failLapsedBuilds(db)) {
      log.warn({ buildId: b.id, capsuleId: b.sandbox_id }, "build failed: its control plane stopped renewing it");
      if (b.sandbox_id) {
        await capsules
          .destroy("system", PLATFORM_TEAM_ID, b.sandbox_id, "build_lost")
          .catch((err) => log.warn({ err, capsuleId: b.sandbox_id }, "lost build's capsule not destroyed"));
      }
      await dropArchive(db, b.id).catch(() => {});
    }
  }
}
