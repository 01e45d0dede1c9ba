import { readFile } from "node:fs/promises";

interface CpuTimes {
  idle: number;
  total: number;
}

async function readCpuTimes(): Promise<CpuTimes | undefined> {
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

/** Samples /proc/stat every `intervalMs` (default 1000) and keeps the CPU use of the last interval. */
export class CpuSampler {
  private last: CpuTimes | undefined;
  private usedPct = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 1000) {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    const now = await readCpuTimes();
    if (now && this.last && now.total > this.last.total) {
      const busy = now.total - this.last.total - (now.idle - this.last.idle);
      this.usedPct = Math.max(0, Math.min(100, (100 * busy) / (now.total - this.last.total)));
    }
    if (now) this.last = now;
  }

  /** CPU use over the last interval, percent of all CPUs, 2 decimals. */
  get cpuUsedPct(): number {
    return Math.round(this.usedPct * 100) / 100;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
