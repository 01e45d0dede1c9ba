import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { hostagent } from "@wrenn/protocol";
import { pino } from "pino";
import { AgentError } from "../errors.ts";
import { CapsuleMetricsHub } from "./capsule-metrics-hub.ts";
import { createMetricsRpc } from "./metrics-rpc.ts";
import type { ProcReader } from "./proc-reader.ts";

const log = pino({ level: "silent" });

/** Stand-in for the agent's RPC edge: AgentError codes → Connect codes. */
const agentErrors: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    const code =
      err.code === "not_found" ? Code.NotFound : err.code === "invalid_argument" ? Code.InvalidArgument : Code.Internal;
    throw new ConnectError(err.message, code);
  }
};

/**
 * A fake /proc and clock for one capsule: every CPU read moves time on by 500 ms and the process by 25 ticks, so a
 * 1-vCPU capsule reads a steady 50 %. Other reads of the clock (range cutoffs) do not move it.
 */
function steadyCapsule(): { proc: ProcReader; now: () => number } {
  let ticks = 0;
  let t = Date.UTC(2026, 2, 25, 12);
  return {
    proc: {
      cpuTicks: async () => {
        ticks += 25;
        t += 500;
        return ticks;
      },
      rssBytes: async () => 128 << 20,
      allocatedBytes: async () => 1 << 20,
    },
    now: () => t,
  };
}

async function waitFor(cond: () => boolean, deadlineMs: number, what: string) {
  const end = Date.now() + deadlineMs;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("metrics RPCs", () => {
  const hubs: CapsuleMetricsHub[] = [];
  after(() => {
    for (const h of hubs) h.close();
  });
  /** One hub per test, sampling every 5 ms, behind an in-memory Connect transport. */
  function setup() {
    const hub = new CapsuleMetricsHub(log, { ...steadyCapsule(), intervalMs: 5 });
    hubs.push(hub);
    const client = createClient(
      hostagent.HostAgentService,
      createRouterTransport(({ service }) => service(hostagent.HostAgentService, createMetricsRpc(hub)), {
        router: { interceptors: [agentErrors] },
      }),
    );
    return { hub, client };
  }

  it("serves a sampled capsule's points for a range, in unix seconds", async () => {
    const { hub, client } = setup();
    hub.track({ capsuleId: "cl-rpc1", pid: 1, vcpus: 1, diskPath: "/d" });
    await waitFor(() => (hub.points("cl-rpc1", "10m")?.length ?? 0) >= 5, 10_000, "5 samples");
    const res = await client.getCapsuleMetrics({ capsuleId: "cl-rpc1", range: "5m" });
    assert.ok(res.points.length >= 5);
    const p = res.points[0];
    assert.ok(p);
    assert.equal(typeof p.timestampUnix, "bigint");
    assert.ok(p.timestampUnix > 1_700_000_000n && p.timestampUnix < 2_000_000_000n, "seconds, not ms");
    assert.equal(p.cpuPct, 50);
    assert.equal(p.memBytes, BigInt(128 << 20));
    assert.equal(p.diskBytes, BigInt(1 << 20));
  });

  it("answers NotFound for a capsule it does not sample and InvalidArgument for an unknown range", async () => {
    const { hub, client } = setup();
    await assert.rejects(client.getCapsuleMetrics({ capsuleId: "cl-nope", range: "5m" }), (e: unknown) => {
      return e instanceof ConnectError && e.code === Code.NotFound;
    });
    hub.track({ capsuleId: "cl-rpc2", pid: 1, vcpus: 1, diskPath: "/d" });
    await assert.rejects(client.getCapsuleMetrics({ capsuleId: "cl-rpc2", range: "3d" }), (e: unknown) => {
      return e instanceof ConnectError && e.code === Code.InvalidArgument;
    });
  });

  it("flush returns every tier, stops sampling, and a second flush is empty", async () => {
    const { hub, client } = setup();
    hub.track({ capsuleId: "cl-rpc3", pid: 1, vcpus: 1, diskPath: "/d" });
    await waitFor(() => (hub.points("cl-rpc3", "10m")?.length ?? 0) >= 61, 20_000, "61 samples");
    const res = await client.flushCapsuleMetrics({ capsuleId: "cl-rpc3" });
    assert.ok(res.points10m.length >= 61);
    assert.ok(res.points2h.length >= 1, "60 samples made a 2h point");
    assert.equal(res.points2h[0]?.cpuPct, 50);
    assert.equal(hub.has("cl-rpc3"), false);
    const again = await client.flushCapsuleMetrics({ capsuleId: "cl-rpc3" });
    assert.deepEqual([again.points10m.length, again.points2h.length, again.points24h.length], [0, 0, 0]);
    await assert.rejects(client.getCapsuleMetrics({ capsuleId: "cl-rpc3", range: "10m" }));
  });
});
