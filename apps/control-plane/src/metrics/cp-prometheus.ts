/**
 * The control plane's Prometheus metrics and the Fastify plugin that records them and serves `GET /metrics`:
 * requests by route and status, a latency histogram, errors by code, capsules by state (read at scrape time) and
 * sampler ticks. Register the plugin at the root instance so its hooks see every route.
 */

import { type Counter, type Histogram, PROMETHEUS_CONTENT_TYPE, PromRegistry } from "@wrenn/prometheus";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { type Kysely, sql } from "kysely";
import { WrennError } from "../errors.ts";
import { CAPSULE_TABLE, type MetricsTables } from "./tables.ts";

/** Capsule states reported even at zero, so a dashboard sees a flat 0 instead of a missing series. */
const CAPSULE_STATES = ["pending", "starting", "running", "paused", "stopped", "missing", "error"] as const;

/** The control plane's metric set. */
export interface CpMetrics {
  registry: PromRegistry;
  httpRequests: Counter;
  httpDuration: Histogram;
  errors: Counter;
  samplerTicks: Counter;
  samplerRows: Counter;
}

/** Creates the metric set; `db` feeds the capsules-by-state gauge at each scrape. */
export function createCpMetrics(db: Kysely<MetricsTables>): CpMetrics {
  const registry = new PromRegistry();
  const httpRequests = registry.counter("wrenn_cp_http_requests_total", "HTTP requests served, by route and status.", [
    "method",
    "route",
    "status",
  ]);
  const httpDuration = registry.histogram(
    "wrenn_cp_http_request_duration_seconds",
    "Time from request received to response sent, by route.",
    ["method", "route"],
  );
  const errors = registry.counter("wrenn_cp_errors_total", "Errors returned to clients, by error code.", ["code"]);
  const capsules = registry.gauge("wrenn_cp_capsules", "Capsules in the database, by state.", ["state"]);
  const samplerTicks = registry.counter("wrenn_cp_metrics_sampler_ticks_total", "Sampler ticks this replica ran.");
  const samplerRows = registry.counter("wrenn_cp_metrics_sampler_rows_total", "Team sample rows this replica wrote.");
  registry.onCollect(async () => {
    const { rows } = await sql<{ status: string; n: string }>`
      SELECT status, count(*) AS n FROM ${sql.table(CAPSULE_TABLE)} GROUP BY status`.execute(db);
    capsules.reset();
    for (const s of CAPSULE_STATES) capsules.set({ state: s }, 0);
    for (const r of rows) capsules.set({ state: r.status }, Number(r.n));
  });
  return { registry, httpRequests, httpDuration, errors, samplerTicks, samplerRows };
}

/** Options of `cpPrometheusPlugin`. */
export interface CpPrometheusOptions {
  metrics: CpMetrics;
  /** When set, `/metrics` requires `Authorization: Bearer <token>`. Default: open (scrapers on a private network). */
  token?: string;
}

const plugin: FastifyPluginAsync<CpPrometheusOptions> = async (app: FastifyInstance, opts) => {
  const { metrics } = opts;
  app.addHook("onResponse", async (request, reply) => {
    // The route template, never the raw URL: ids in paths would make one series per capsule.
    const route = request.routeOptions.url ?? "unmatched";
    if (route === "/metrics") return;
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.addHook("onError", async (_request, reply, err) => {
    metrics.errors.inc({ code: errorCode(err, reply.statusCode) });
  });
  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (opts.token !== undefined && request.headers.authorization !== `Bearer ${opts.token}`) {
      return reply.code(401).send({ error: { code: "unauthorized", message: "metrics token required" } });
    }
    const body = await metrics.registry.expose();
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(body);
  });
};

// Same effect as wrapping in fastify-plugin: the hooks apply to the parent scope, i.e. every route.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for("skip-override")] = true;
(plugin as unknown as Record<symbol, string>)[Symbol.for("fastify.display-name")] = "wrenn-cp-prometheus";

/** The API error code of a failure, from a closed set (Fastify's own FST_* codes would add series). */
function errorCode(err: unknown, status: number): string {
  if (err instanceof WrennError) return err.code;
  if ((err as { validation?: unknown }).validation !== undefined) return "invalid_request";
  return status >= 500 ? "internal_error" : "other";
}

/** Fastify plugin: records request metrics for every route and serves `GET /metrics`. */
export const cpPrometheusPlugin = plugin;
