/**
 * A capsule's three metric tiers (reference §6c), filled in cascade:
 * - 10m: every 500 ms sample, 1200 of them;
 * - 2h: the average of each 60 consecutive samples (30 s), 240 of them;
 * - 24h: the average of each 10 consecutive 2h points (5 min), 288 of them.
 */
import { RingBuffer } from "./ring-buffer.ts";

/** One sample or average. `timestampMs` is when it was taken (an average carries its last sample's time). */
export interface MetricSample {
  timestampMs: number;
  /** CPU use in percent of the capsule's vCPUs, 0–100. */
  cpuPct: number;
  /** Resident memory of the VM process, bytes. */
  memBytes: number;
  /** Allocated bytes of the capsule's writable disk. */
  diskBytes: number;
}

/** Tier names, as on the wire and in the control plane's table. */
export type MetricTier = "10m" | "2h" | "24h";

/** Sizes of the cascade. */
export const RING_LAYOUT = {
  sampleIntervalMs: 500,
  capacity10m: 1200,
  capacity2h: 240,
  capacity24h: 288,
  /** 10m samples per 2h point (60 × 500 ms = 30 s). */
  samplesPer2h: 60,
  /** 2h points per 24h point (10 × 30 s = 5 min). */
  pointsPer24h: 10,
} as const;

/** All three tiers, oldest first. */
export interface TierSnapshot {
  points10m: MetricSample[];
  points2h: MetricSample[];
  points24h: MetricSample[];
}

/** Averages samples; memory and disk are whole bytes. */
export function averageSamples(samples: readonly MetricSample[]): MetricSample {
  const n = samples.length;
  if (n === 0) throw new Error("cannot average zero samples");
  let cpu = 0;
  let mem = 0;
  let disk = 0;
  for (const s of samples) {
    cpu += s.cpuPct;
    mem += s.memBytes;
    disk += s.diskBytes;
  }
  return {
    timestampMs: (samples[n - 1] as MetricSample).timestampMs,
    cpuPct: cpu / n,
    memBytes: Math.floor(mem / n),
    diskBytes: Math.floor(disk / n),
  };
}

/** The rings of one capsule. Not thread-safe by design: Node runs it on one thread. */
export class MetricRings {
  private readonly rings: Record<MetricTier, RingBuffer<MetricSample>> = {
    "10m": new RingBuffer(RING_LAYOUT.capacity10m),
    "2h": new RingBuffer(RING_LAYOUT.capacity2h),
    "24h": new RingBuffer(RING_LAYOUT.capacity24h),
  };
  private pending2h: MetricSample[] = [];
  private pending24h: MetricSample[] = [];

  /** Adds one 500 ms sample and cascades averages into the coarser tiers when enough have accumulated. */
  push(sample: MetricSample): void {
    this.rings["10m"].push(sample);
    this.pending2h.push(sample);
    if (this.pending2h.length < RING_LAYOUT.samplesPer2h) return;
    const p2h = averageSamples(this.pending2h);
    this.pending2h = [];
    this.rings["2h"].push(p2h);
    this.pending24h.push(p2h);
    if (this.pending24h.length < RING_LAYOUT.pointsPer24h) return;
    this.rings["24h"].push(averageSamples(this.pending24h));
    this.pending24h = [];
  }

  /** One tier's points, oldest first. */
  tier(tier: MetricTier): MetricSample[] {
    return this.rings[tier].toArray();
  }

  /** Returns every tier and empties the rings, partial averages included. */
  flush(): TierSnapshot {
    const out = { points10m: this.tier("10m"), points2h: this.tier("2h"), points24h: this.tier("24h") };
    for (const r of Object.values(this.rings)) r.clear();
    this.pending2h = [];
    this.pending24h = [];
    return out;
  }
}
