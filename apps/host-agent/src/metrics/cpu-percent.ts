/**
 * CPU use of a VM process in percent of its vCPUs (reference §6c):
 * Δ(utime + stime) ÷ (elapsed s × CLK_TCK × vcpus) × 100, clamped to 0–100.
 * One fully busy vCPU of a 1-vCPU capsule is 100 %; of a 2-vCPU capsule, 50 %.
 */

/** Clock ticks per second of /proc times (`getconf CLK_TCK`; 100 on every Linux the agent supports). */
export const CLK_TCK = 100;

/** Inputs of `cpuPercent`. */
export interface CpuDelta {
  /** utime + stime (ticks) at the previous sample. */
  prevTicks: number;
  /** utime + stime (ticks) now. */
  ticks: number;
  /** Wall time between the two readings, ms. */
  elapsedMs: number;
  vcpus: number;
  clkTck?: number;
}

/** The percentage; 0 when no time passed or the counter went backwards (a new process). */
export function cpuPercent({ prevTicks, ticks, elapsedMs, vcpus, clkTck = CLK_TCK }: CpuDelta): number {
  if (elapsedMs <= 0 || vcpus <= 0) return 0;
  const delta = ticks - prevTicks;
  if (delta <= 0) return 0;
  const pct = (delta / ((elapsedMs / 1000) * clkTck * vcpus)) * 100;
  return Math.min(100, Math.max(0, pct));
}
