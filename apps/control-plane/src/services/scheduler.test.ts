import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WrennError } from "../errors.ts";
import { createRoundRobin, type HostLoad, hostCapacity, leastLoaded, singleHost } from "./scheduler.ts";

const host = (id: string, over: Partial<HostLoad> = {}): HostLoad => ({
  id,
  address: `${id}:1`,
  agent_key: null,
  cpu_cores: 16,
  memory_mb: 65536,
  disk_gb: 500,
  active_vcpus: 0,
  active_memory_mb: 0,
  active_disk_mb: 0,
  paused_half_memory_mb: 0,
  paused_disk_mb: 0,
  ...over,
});
const req = { vcpus: 1, memory_mb: 512, disk_mb: 5120 };

describe("schedulers", () => {
  it("least-loaded picks the host with the most free capacity", () => {
    const busy = host("a", { active_memory_mb: 40_000, active_vcpus: 10 });
    const idle = host("b");
    assert.equal(leastLoaded([busy, idle], req).id, "b");
  });
  it("counts a paused capsule as half its RAM and rejects hosts without room", () => {
    // 65536 − 8192 = 57344 usable; 57000 used by paused halves leaves 344 < 512.
    const full = host("a", { paused_half_memory_mb: 57_000 });
    assert.equal(hostCapacity(full).memFree, 344);
    assert.throws(
      () => leastLoaded([full], req),
      (e: unknown) => e instanceof WrennError && e.code === "no_hosts_available" && e.status === 503,
    );
    assert.throws(() => leastLoaded([], req), /no online hosts/);
  });
  it("caps the system reserve at a quarter on small hosts", () => {
    const small = host("s", { memory_mb: 4096, cpu_cores: 2, disk_gb: 20 });
    assert.equal(hostCapacity(small).memFree, 3072);
    assert.equal(leastLoaded([small], req).id, "s");
  });
  it("round-robin cycles through hosts and single-host always picks the first", () => {
    const rr = createRoundRobin();
    const hosts = [host("b"), host("a"), host("c")];
    assert.deepEqual(
      [1, 2, 3, 4].map(() => rr(hosts, req).id),
      ["a", "b", "c", "a"],
    );
    assert.equal(singleHost(hosts, req).id, "a");
    assert.equal(singleHost([host("b"), host("a")], req).id, "a");
  });
});
