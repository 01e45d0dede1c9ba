/**
 * Samples one running capsule every 500 ms: CPU % of its QEMU process, the process's resident memory, and the
 * allocated bytes of its overlay disk, into the capsule's 10m/2h/24h rings. One sampler per QEMU process: on pause
 * the owner flushes (which stops it); on resume it starts a new one for the new process.
 */
import type { Logger } from "pino";
import { cpuPercent } from "./cpu-percent.ts";
import { type MetricRange, pointsForRange } from "./metric-ranges.ts";
import { MetricRings, type MetricSample, RING_LAYOUT, type TierSnapshot } from "./metric-rings.ts";
import type { ProcReader } from "./proc-reader.ts";

/** What to sample. */
export interface SampledCapsule {
  capsuleId: string;
  /** PID of the capsule's QEMU process. */
  pid: number;
  vcpus: number;
  /** The capsule's writable disk (`sandboxes/<id>/overlay.qcow2`). */
  diskPath: string;
}

/** Dependencies of a sampler. */
export interface SamplerDeps {
  proc: ProcReader;
  log: Logger;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  /** Sample period; default 500 ms. Tests shorten it. */
  intervalMs?: number;
}

/** The sampler of one capsule; `start()` once, `stop()` or `flush()` at the end. */
export class CapsuleMetricsSampler {
  private readonly rings = new MetricRings();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private prev: { ticks: number; atMs: number } | undefined;
  private inFlight = false;
  private lastError: string | undefined;

  constructor(
    readonly capsule: SampledCapsule,
    private readonly deps: SamplerDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Takes the CPU baseline now and samples every interval until stopped. */
  start(): void {
    if (this.timer) return;
    void this.sampleOnce();
    this.timer = setInterval(() => void this.sampleOnce(), this.deps.intervalMs ?? RING_LAYOUT.sampleIntervalMs);
    this.timer.unref();
  }

  /**
   * Reads the process once. The first reading only sets the CPU baseline; each later one pushes a sample.
   * Returns the sample pushed, if any. A failed read (process gone, disk missing) is skipped, logged once.
   */
  async sampleOnce(): Promise<MetricSample | undefined> {
    if (this.inFlight) return undefined; // a slow /proc read must not stack samples
    this.inFlight = true;
    try {
      const { pid, vcpus, diskPath } = this.capsule;
      const ticks = await this.deps.proc.cpuTicks(pid);
      const atMs = this.now();
      const prev = this.prev;
      this.prev = { ticks, atMs };
      if (!prev) return undefined;
      const [memBytes, diskBytes] = await Promise.all([
        this.deps.proc.rssBytes(pid),
        this.deps.proc.allocatedBytes(diskPath).catch(() => 0),
      ]);
      const sample: MetricSample = {
        timestampMs: atMs,
        cpuPct: cpuPercent({ prevTicks: prev.ticks, ticks, elapsedMs: atMs - prev.atMs, vcpus }),
        memBytes,
        diskBytes,
      };
      this.rings.push(sample);
      this.lastError = undefined;
      return sample;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.lastError) {
        this.deps.log.debug({ capsuleId: this.capsule.capsuleId, err: message }, "metrics sample skipped");
        this.lastError = message;
      }
      return undefined;
    } finally {
      this.inFlight = false;
    }
  }

  /** Points answering `range`, oldest first. */
  points(range: MetricRange): MetricSample[] {
    return pointsForRange(this.rings, range, this.now());
  }

  /** Stops sampling and returns all tiers, emptying the rings (for persisting on pause or destroy). */
  flush(): TierSnapshot {
    this.stop();
    return this.rings.flush();
  }

  /** Stops the timer; idempotent. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
