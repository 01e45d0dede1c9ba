/**
 * The agent's Prometheus metrics and their `/metrics` endpoint: capsules by state, VM operation durations (boot,
 * restore, pause, resume, snapshot), errors by code, and RPCs by method and Connect code (through an interceptor).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type Counter, type Gauge, type Histogram, PROMETHEUS_CONTENT_TYPE, PromRegistry } from "@wrenn/prometheus";

/** VM operations whose durations are recorded. */
export type VmOperation = "boot" | "restore" | "pause" | "resume" | "snapshot";

/** Buckets for VM operations under TCG: restores take ~0.1–2 s, cold boots tens of seconds. */
const VM_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

/** The agent's metric set; one per process, passed to whoever records. */
export class MetricsRegistry {
  readonly registry = new PromRegistry();
  private readonly capsules: Gauge;
  private readonly vmSeconds: Histogram;
  private readonly vmFailures: Counter;
  private readonly errorsTotal: Counter;
  private readonly rpcs: Counter;
  private readonly rpcSeconds: Histogram;
  private capsuleStates: () => Record<string, number> = () => ({});

  constructor() {
    const r = this.registry;
    this.capsules = r.gauge("wrenn_agent_capsules", "Capsules on this host, by state.", ["state"]);
    this.vmSeconds = r.histogram(
      "wrenn_agent_vm_operation_seconds",
      "Duration of successful VM operations (boot, restore, pause, resume, snapshot).",
      ["op"],
      VM_SECONDS_BUCKETS,
    );
    this.vmFailures = r.counter("wrenn_agent_vm_operation_failures_total", "Failed VM operations.", ["op"]);
    this.errorsTotal = r.counter("wrenn_agent_errors_total", "Errors the agent reported, by error code.", ["code"]);
    this.rpcs = r.counter("wrenn_agent_rpc_requests_total", "RPCs handled, by method and Connect code.", [
      "method",
      "code",
    ]);
    this.rpcSeconds = r.histogram("wrenn_agent_rpc_duration_seconds", "Duration of unary RPCs, by method.", ["method"]);
    r.onCollect(() => {
      this.capsules.reset();
      for (const s of ["running", "paused"]) this.capsules.set({ state: s }, 0);
      for (const [state, n] of Object.entries(this.capsuleStates())) this.capsules.set({ state }, n);
    });
  }

  /** Where capsule counts come from (the capsule manager), read at every scrape. */
  setCapsuleStateSource(fn: () => Record<string, number>): void {
    this.capsuleStates = fn;
  }

  /** Records a finished VM operation. */
  observeVmOperation(op: VmOperation, seconds: number): void {
    this.vmSeconds.observe({ op }, seconds);
  }

  /** Runs `fn`, recording its duration on success and a failure count on error (rethrown). */
  async timeVmOperation<T>(op: VmOperation, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const v = await fn();
      this.vmSeconds.observe({ op }, (performance.now() - started) / 1000);
      return v;
    } catch (err) {
      this.vmFailures.inc({ op });
      throw err;
    }
  }

  /** Counts an error by its code (the agent's `AgentError.code`). */
  recordError(code: string): void {
    this.errorsTotal.inc({ code });
  }

  /** A Connect server interceptor counting every RPC by method and outcome, timing unary ones. */
  rpcInterceptor(): Interceptor {
    return (next) => async (req) => {
      const method = req.method.name;
      const started = performance.now();
      try {
        const res = await next(req);
        this.rpcs.inc({ method, code: "ok" });
        if (!res.stream) this.rpcSeconds.observe({ method }, (performance.now() - started) / 1000);
        return res;
      } catch (err) {
        const code = err instanceof ConnectError ? Code[err.code] : "internal";
        this.rpcs.inc({ method, code: String(code).toLowerCase() });
        throw err;
      }
    };
  }

  /** The exposition text. */
  expose(): Promise<string> {
    return this.registry.expose();
  }

  /**
   * Serves `GET /metrics` on the agent's HTTP server (use as, or inside, connect-node's `fallback`). Returns false
   * for any other request so the caller can answer it.
   */
  handleHttp(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): boolean {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") return false;
    this.expose().then(
      (body) => {
        res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
        res.end(body);
      },
      () => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("metrics collection failed\n");
      },
    );
    return true;
  }
}
