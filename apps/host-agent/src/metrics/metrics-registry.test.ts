import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { PromRegistry } from "@wrenn/prometheus";
import { hostagent } from "@wrenn/protocol";
import { MetricsRegistry } from "./metrics-registry.ts";

describe("Prometheus exposition", () => {
  it("renders counters, gauges and cumulative histogram buckets with escaped labels", async () => {
    const r = new PromRegistry();
    const c = r.counter("x_total", "Things.\nTwo lines.", ["kind"]);
    c.inc({ kind: 'a"b\\c' });
    c.inc({ kind: 'a"b\\c' }, 2);
    const g = r.gauge("y", "A gauge.");
    g.set({}, 4.5);
    const h = r.histogram("z_seconds", "Durations.", ["op"], [0.1, 1]);
    h.observe({ op: "boot" }, 0.05);
    h.observe({ op: "boot" }, 0.5);
    h.observe({ op: "boot" }, 3);
    assert.equal(
      await r.expose(),
      [
        "# HELP x_total Things.\\nTwo lines.",
        "# TYPE x_total counter",
        'x_total{kind="a\\"b\\\\c"} 3',
        "# HELP y A gauge.",
        "# TYPE y gauge",
        "y 4.5",
        "# HELP z_seconds Durations.",
        "# TYPE z_seconds histogram",
        'z_seconds_bucket{op="boot",le="0.1"} 1',
        'z_seconds_bucket{op="boot",le="1"} 2',
        'z_seconds_bucket{op="boot",le="+Inf"} 3',
        'z_seconds_sum{op="boot"} 3.55',
        'z_seconds_count{op="boot"} 3',
        "",
      ].join("\n"),
    );
  });

  it("rejects unknown labels, negative counter steps and duplicate names", () => {
    const r = new PromRegistry();
    const c = r.counter("a_total", "A.", ["x"]);
    assert.throws(() => c.inc({ y: 1 }));
    assert.throws(() => c.inc({ x: 1 }, -1));
    assert.throws(() => r.gauge("a_total", "again"));
    assert.throws(() => r.gauge("bad-name", "dash"));
  });
});

describe("MetricsRegistry (agent)", () => {
  it("reports capsules by state from its source, VM operation times and failures", async () => {
    const m = new MetricsRegistry();
    let counts: Record<string, number> = { running: 3 };
    m.setCapsuleStateSource(() => counts);
    await m.timeVmOperation("restore", async () => {});
    await assert.rejects(
      m.timeVmOperation("boot", async () => {
        throw new Error("no kernel");
      }),
    );
    m.observeVmOperation("boot", 42);
    m.recordError("vm_start_failed");
    let text = await m.expose();
    assert.match(text, /^wrenn_agent_capsules\{state="running"\} 3$/m);
    assert.match(text, /^wrenn_agent_capsules\{state="paused"\} 0$/m);
    assert.match(text, /^wrenn_agent_vm_operation_seconds_count\{op="restore"\} 1$/m);
    assert.match(text, /^wrenn_agent_vm_operation_seconds_bucket\{op="boot",le="60"\} 1$/m);
    assert.match(text, /^wrenn_agent_vm_operation_seconds_bucket\{op="boot",le="30"\} 0$/m);
    assert.match(text, /^wrenn_agent_vm_operation_failures_total\{op="boot"\} 1$/m);
    assert.match(text, /^wrenn_agent_errors_total\{code="vm_start_failed"\} 1$/m);
    counts = { paused: 1 };
    text = await m.expose();
    assert.doesNotMatch(text, /state="running"\} 3/, "a scrape reflects the current state only");
    assert.match(text, /^wrenn_agent_capsules\{state="paused"\} 1$/m);
  });

  it("counts RPCs by method and Connect code through its interceptor", async () => {
    const m = new MetricsRegistry();
    const client = createClient(
      hostagent.HostAgentService,
      createRouterTransport(
        ({ service }) =>
          service(hostagent.HostAgentService, {
            getCapsuleMetrics: async () => ({ points: [] }),
            flushCapsuleMetrics: async () => {
              throw new ConnectError("nope", Code.NotFound);
            },
          }),
        { router: { interceptors: [m.rpcInterceptor()] } },
      ),
    );
    await client.getCapsuleMetrics({ capsuleId: "cl-1", range: "5m" });
    await client.getCapsuleMetrics({ capsuleId: "cl-1", range: "5m" });
    await assert.rejects(client.flushCapsuleMetrics({ capsuleId: "cl-1" }));
    const text = await m.expose();
    assert.match(text, /^wrenn_agent_rpc_requests_total\{method="GetCapsuleMetrics",code="ok"\} 2$/m);
    assert.match(text, /^wrenn_agent_rpc_requests_total\{method="FlushCapsuleMetrics",code="notfound"\} 1$/m);
    assert.match(text, /^wrenn_agent_rpc_duration_seconds_count\{method="GetCapsuleMetrics"\} 2$/m);
  });

  it("serves GET /metrics over HTTP and leaves other requests to the caller", async () => {
    const m = new MetricsRegistry();
    const server = createServer((req, res) => {
      if (!m.handleHttp(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      assert.match(await res.text(), /# TYPE wrenn_agent_capsules gauge/);
      const other = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(other.status, 404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
