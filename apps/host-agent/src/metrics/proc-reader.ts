/**
 * Reads what the sampler needs about a VM process from /proc and the filesystem. An interface so unit tests can
 * feed known numbers; the real one is `createProcReader()`.
 */
import { readFile, stat } from "node:fs/promises";

/** Source of process and disk figures. */
export interface ProcReader {
  /** utime + stime of `pid`, in clock ticks. */
  cpuTicks(pid: number): Promise<number>;
  /** VmRSS of `pid`, bytes. */
  rssBytes(pid: number): Promise<number>;
  /** Bytes actually allocated to the file (blocks × 512), not its apparent size. */
  allocatedBytes(path: string): Promise<number>;
}

/** Parses utime + stime (fields 14 and 15) from a /proc/<pid>/stat line. */
export function parseStatTicks(text: string): number {
  // The command name (field 2) may contain spaces and parentheses; fields are counted after its last ")".
  const end = text.lastIndexOf(")");
  if (end < 0) throw new Error("malformed /proc stat: no closing parenthesis");
  const fields = text
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("malformed /proc stat: no utime/stime");
  return utime + stime;
}

/** Parses VmRSS (kB) from /proc/<pid>/status into bytes; 0 for a kernel thread or zombie without it. */
export function parseRssBytes(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The real reader over `procRoot` (default `/proc`). */
export function createProcReader(procRoot = "/proc"): ProcReader {
  return {
    cpuTicks: async (pid) => parseStatTicks(await readFile(`${procRoot}/${pid}/stat`, "utf8")),
    rssBytes: async (pid) => parseRssBytes(await readFile(`${procRoot}/${pid}/status`, "utf8")),
    allocatedBytes: async (path) => (await stat(path)).blocks * 512,
  };
}
