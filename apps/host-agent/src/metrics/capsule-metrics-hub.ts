/**
 * All capsule samplers of the agent, by capsule id. The capsule manager calls `track` when a capsule's QEMU is up
 * (create, resume, re-adopt after an agent restart), `flush` when the control plane persists a pause or destroy,
 * and `untrack` when the VM goes away; the RPC handlers read through `points`.
 */
import type { Logger } from "pino";
import { CapsuleMetricsSampler, type SampledCapsule } from "./capsule-metrics-sampler.ts";
import type { MetricRange } from "./metric-ranges.ts";
import type { MetricSample, TierSnapshot } from "./metric-rings.ts";
import { createProcReader, type ProcReader } from "./proc-reader.ts";

/** Options of the hub; all optional. */
export interface CapsuleMetricsHubOptions {
  proc?: ProcReader;
  now?: () => number;
  /** Sample period, default 500 ms. */
  intervalMs?: number;
}

/** Owner of every per-capsule sampler; `close()` stops them all. */
export class CapsuleMetricsHub {
  private readonly samplers = new Map<string, CapsuleMetricsSampler>();
  private readonly proc: ProcReader;

  constructor(
    private readonly log: Logger,
    private readonly opts: CapsuleMetricsHubOptions = {},
  ) {
    this.proc = opts.proc ?? createProcReader();
  }

  /** Starts sampling a capsule's VM process, replacing (and discarding) any sampler it had. */
  track(capsule: SampledCapsule): void {
    this.samplers.get(capsule.capsuleId)?.stop();
    const s = new CapsuleMetricsSampler(capsule, {
      proc: this.proc,
      log: this.log,
      now: this.opts.now,
      intervalMs: this.opts.intervalMs,
    });
    this.samplers.set(capsule.capsuleId, s);
    s.start();
  }

  /** True while a capsule is being sampled. */
  has(capsuleId: string): boolean {
    return this.samplers.has(capsuleId);
  }

  /** Points of a sampled capsule for `range`; undefined when the capsule is not sampled here. */
  points(capsuleId: string, range: MetricRange): MetricSample[] | undefined {
    return this.samplers.get(capsuleId)?.points(range);
  }

  /** Stops sampling a capsule and hands back all its tiers (empty ones when it was not sampled). */
  flush(capsuleId: string): TierSnapshot {
    const s = this.samplers.get(capsuleId);
    if (!s) return { points10m: [], points2h: [], points24h: [] };
    this.samplers.delete(capsuleId);
    return s.flush();
  }

  /** Stops sampling a capsule and drops its points. */
  untrack(capsuleId: string): void {
    this.samplers.get(capsuleId)?.stop();
    this.samplers.delete(capsuleId);
  }

  /** Stops every sampler (agent shutdown). */
  close(): void {
    for (const s of this.samplers.values()) s.stop();
    this.samplers.clear();
  }
}
