/**
 * Finding and stopping a stack started earlier with `wrenn up --detach`, by the pid files in its data directory.
 * A pid is signalled only when `/proc/<pid>/cmdline` still shows our program, so a recycled pid is never hit.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { signalGroup } from "./managed-process.ts";
import { stackLayout } from "./stack-layout.ts";

/** What `run/stack.json` records. */
export interface RunningStack {
  base_url: string;
  agent_address: string;
  files_root: string;
  control_plane_pid: number;
  host_agent_pid: number;
}

/** True when `pid` is alive and its command line mentions `marker`. */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").includes(marker);
  } catch {
    return false;
  }
}

/** The stack recorded in the data dir when its control plane still runs. */
export function findRunningStack(dataDir: string): RunningStack | undefined {
  const layout = stackLayout(dataDir);
  if (!existsSync(layout.stackFile)) return undefined;
  try {
    const s = JSON.parse(readFileSync(layout.stackFile, "utf8")) as RunningStack;
    return isOurProcess(s.control_plane_pid, "control-plane/src/main.ts") ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the recorded agent, then the control plane; waits up to `graceMs` each before SIGKILL. */
export async function stopRecordedStack(dataDir: string, graceMs = 15_000): Promise<string[]> {
  const layout = stackLayout(dataDir);
  const stopped: string[] = [];
  const targets: [string, string, string][] = [
    ["host agent", layout.agentPid, "host-agent/src/main.ts"],
    ["control plane", layout.cpPid, "control-plane/src/main.ts"],
  ];
  for (const [name, pidFile, marker] of targets) {
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : 0;
    if (isOurProcess(pid, marker)) {
      signalGroup(pid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (isOurProcess(pid, marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (isOurProcess(pid, marker)) signalGroup(pid, "SIGKILL");
      stopped.push(`${name} (pid ${pid})`);
    }
    rmSync(pidFile, { force: true });
  }
  rmSync(layout.stackFile, { force: true });
  return stopped;
}
