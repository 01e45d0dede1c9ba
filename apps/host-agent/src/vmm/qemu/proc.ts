/**
 * Facts about host processes from /proc: liveness (a zombie counts as dead: after an agent restart nobody may be
 * left to reap it), command lines for re-adoption, CPU and memory for stats.
 */

import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux that matters). */
const USER_HZ = 100;

/** State letter from /proc/<pid>/stat, or undefined when the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses; fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** True when the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== "Z" && state !== "X";
}

/** argv of a process, or undefined when it is gone. */
export async function readCmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter((s, i, all) => s !== "" || i < all.length - 1);
  } catch {
    return undefined;
  }
}

/** user+system CPU time in ms. */
export async function readCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command: state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}

/** Pss and Rss in bytes from smaps_rollup. */
export async function readMemory(pid: number): Promise<{ pssBytes: number; rssBytes: number }> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { pssBytes: kb("Pss"), rssBytes: kb("Rss") };
}

/**
 * Sends SIGKILL to the process group of `pid` (QEMU runs as a group leader; its migration helpers are members)
 * and waits until the process is gone. Returns false if it still exists at the deadline.
 */
export async function killGroup(pid: number, timeoutMs: number): Promise<boolean> {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // ESRCH: already gone (or no such group).
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return hasExited(pid);
}

/**
 * True when every thread of the process is gone, not only its main one: a killed QEMU's main thread turns zombie
 * while its vCPU and I/O threads still tear down, and the open files (and the disk image's locks) belong to all of
 * them. A pause that moved or read the disk at the first zombie sighting found it still locked.
 */
export function hasExited(pid: number): boolean {
  const state = processState(pid);
  if (state === undefined) return true;
  if (state !== "Z" && state !== "X") return false;
  try {
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}
