import { readFile } from "node:fs/promises";

/** Cumulative CPU time of the whole guest (clock ticks), from the first line of /proc/stat. */
export interface CpuTimes {
  idle: number;
  total: number;
}

/** Reads /proc/stat; undefined where it cannot (a host without procfs). */
export async function readCpuTimes(): Promise<CpuTimes | undefined> {
  try {
    const line = (await readFile("/proc/stat", "utf8")).split("\n", 1)[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal; idle time = idle + iowait.
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { idle: (f[3] ?? 0) + (f[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** Guest CPU use, measured when asked. */
export interface CpuSampler {
  /** CPU use, percent of all CPUs (0–100, 2 decimals), since the previous call or over a short fresh window. */
  cpuUsedPct(): Promise<number>;
}

/** Options of `createCpuSampler` (tests replace the clock and /proc). */
export interface CpuSamplerOptions {
  /** Default `readCpuTimes`. */
  read?: () => Promise<CpuTimes | undefined>;
  /** Default `Date.now`. */
  now?: () => number;
  /** Waits `ms`; default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Length of a fresh measurement window, ms. Default 250. */
  windowMs?: number;
  /** A previous reading older than this is not reused (it would average over idle minutes), ms. Default 10000. */
  maxAgeMs?: number;
}

/**
 * Measures guest CPU only while someone asks (GET /metrics). A call compares /proc/stat with the previous call's
 * reading when that is between `windowMs` and `maxAgeMs` old, else takes two readings `windowMs` apart. No timer runs
 * between calls: under TCG every wake-up of an idle guest costs the host CPU (a 1 s sampler was ~1 % of a core per
 * idle capsule), and the memory it dirties is copied out of the shared template.
 */
export function createCpuSampler(o: CpuSamplerOptions = {}): CpuSampler {
  const read = o.read ?? readCpuTimes;
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const windowMs = o.windowMs ?? 250;
  const maxAgeMs = o.maxAgeMs ?? 10_000;
  let last: { times: CpuTimes; atMs: number } | undefined;
  let lastPct = 0;

  const percent = (from: CpuTimes, to: CpuTimes) => {
    if (to.total <= from.total) return lastPct;
    const busy = to.total - from.total - (to.idle - from.idle);
    return Math.max(0, Math.min(100, (100 * busy) / (to.total - from.total)));
  };

  return {
    async cpuUsedPct() {
      let from = last;
      const age = from ? now() - from.atMs : Number.POSITIVE_INFINITY;
      if (!from || age < windowMs || age > maxAgeMs) {
        const times = await read();
        if (!times) return 0;
        from = { times, atMs: now() };
        await sleep(windowMs);
      }
      const times = await read();
      if (!times) return 0;
      lastPct = percent(from.times, times);
      last = { times, atMs: now() };
      return Math.round(lastPct * 100) / 100;
    },
  };
}
