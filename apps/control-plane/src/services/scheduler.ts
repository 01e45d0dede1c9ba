import { errors } from "../errors.ts";

/** A candidate host with what its capsules already hold (from `loadCandidates`). */
export interface HostLoad {
  id: string;
  address: string;
  agent_key: string | null;
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  /** vCPUs / MB of running, starting and pending capsules. */
  active_vcpus: number;
  active_memory_mb: number;
  active_disk_mb: number;
  /** Σ ceil(memory_mb / 2) and Σ disk of paused capsules. */
  paused_half_memory_mb: number;
  paused_disk_mb: number;
}

/** What a new capsule needs. */
export interface PlacementRequest {
  vcpus: number;
  memory_mb: number;
  disk_mb: number;
}

/** Picks a host for a capsule, or throws 503 `no_hosts_available`. */
export type Scheduler = (hosts: HostLoad[], req: PlacementRequest) => HostLoad;

// The reference reserves 8 GiB RAM, 4 vCPUs and 30 GiB disk per host for the system. On small
// hosts (a laptop running `wrenn up`) that leaves nothing, so the reserve is capped at a quarter.
const reserve = (total: number, fixed: number) => Math.min(fixed, total / 4);

/** Free fractions and admission of one host (reference §8, with the reserve cap above). */
export function hostCapacity(h: HostLoad) {
  const memTotal = h.memory_mb - reserve(h.memory_mb, 8192);
  const cpuTotal = h.cpu_cores * 1.5 - reserve(h.cpu_cores * 1.5, 4);
  const diskTotal = h.disk_gb * 1024 - reserve(h.disk_gb * 1024, 30720);
  const memUsed = h.active_memory_mb + h.paused_half_memory_mb;
  const diskUsed = h.active_disk_mb + (h.paused_disk_mb * 2) / 3;
  return {
    memFree: memTotal - memUsed,
    diskFree: diskTotal - diskUsed,
    score: Math.min(
      memTotal > 0 ? (memTotal - memUsed) / memTotal : 0,
      cpuTotal > 0 ? (cpuTotal - h.active_vcpus) / cpuTotal : 0,
      diskTotal > 0 ? (diskTotal - diskUsed) / diskTotal : 1,
    ),
  };
}

function requireHosts(hosts: HostLoad[]) {
  if (hosts.length === 0) throw errors.noHostsAvailable("no online hosts available");
}

/**
 * Least-loaded with admission control: hosts whose free RAM or disk is below the request are
 * skipped (CPU may be overcommitted); the highest minimum free fraction wins. A host that
 * reports 0 disk is not disk-limited (unknown size).
 */
export const leastLoaded: Scheduler = (hosts, req) => {
  requireHosts(hosts);
  let best: { h: HostLoad; score: number } | undefined;
  for (const h of hosts) {
    const c = hostCapacity(h);
    if (c.memFree < req.memory_mb) continue;
    if (h.disk_gb > 0 && c.diskFree < req.disk_mb) continue;
    if (!best || c.score > best.score) best = { h, score: c.score };
  }
  if (!best) throw errors.noHostsAvailable("no host has sufficient resources for this capsule");
  return best.h;
};

/** Round-robin over eligible hosts, no admission control (the reference's unused scheduler). */
export function createRoundRobin(): Scheduler {
  let next = 0;
  return (hosts) => {
    requireHosts(hosts);
    const sorted = [...hosts].sort((a, b) => a.id.localeCompare(b.id));
    return sorted[next++ % sorted.length]!;
  };
}

/** Always the same host (the first by id): one-box installs. */
export const singleHost: Scheduler = (hosts) => {
  requireHosts(hosts);
  return [...hosts].sort((a, b) => a.id.localeCompare(b.id))[0]!;
};

/** The scheduler named by `CP_SCHEDULER`. */
export function createScheduler(name: "least-loaded" | "round-robin" | "single-host"): Scheduler {
  if (name === "round-robin") return createRoundRobin();
  if (name === "single-host") return singleHost;
  return leastLoaded;
}
