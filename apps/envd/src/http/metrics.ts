import { readFile, statfs } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type { CpuSampler } from "../system/cpu-sampler.ts";
import { type RouteHandler, sendJson } from "./respond.ts";

async function memInfo(): Promise<{ total: number; used: number }> {
  const text = await readFile("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) * 1024;
  const total = kb("MemTotal");
  return { total, used: total - kb("MemAvailable") };
}

/** GET /metrics: guest CPU, memory and root-disk use, in the reference's field names (bytes and MiB). */
export function createMetricsRoute(deps: { cpu: CpuSampler; diskPath: string }): RouteHandler {
  return async ({ res }) => {
    const [mem, disk, cpuUsedPct] = await Promise.all([memInfo(), statfs(deps.diskPath), deps.cpu.cpuUsedPct()]);
    const diskTotal = disk.blocks * disk.bsize;
    sendJson(res, 200, {
      ts: Math.floor(Date.now() / 1000),
      cpu_count: availableParallelism(),
      cpu_used_pct: cpuUsedPct,
      mem_total_mib: Math.floor(mem.total / 1048576),
      mem_used_mib: Math.floor(mem.used / 1048576),
      mem_total: mem.total,
      mem_used: mem.used,
      disk_used: diskTotal - disk.bfree * disk.bsize,
      disk_total: diskTotal,
    });
  };
}
