/**
 * The metrics routes as one Fastify plugin. Register it inside the authenticated `/v1/capsules` scope (API key or
 * JWT), before or after the capsule routes: the static `/v1/capsules/stats` and `/usage` paths win over `:id`.
 */
import type { FastifyInstance } from "fastify";
import { registerCapsuleMetricsRoute } from "./capsule-metrics-route.ts";
import type { MetricsRoutesOptions } from "./route-deps.ts";
import { registerStatsRoute } from "./stats-route.ts";
import { registerUsageRoute } from "./usage-route.ts";

export { registerCapsuleMetricsRoute } from "./capsule-metrics-route.ts";
export type { CapsuleMetricsAgent, CapsuleRef, MetricsRoutesOptions } from "./route-deps.ts";

/** Registers `GET /v1/capsules/stats`, `GET /v1/capsules/usage` and `GET /v1/capsules/:id/metrics`. */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsRoutesOptions): Promise<void> {
  registerStatsRoute(app, opts);
  registerUsageRoute(app, opts);
  registerCapsuleMetricsRoute(app, opts);
}
