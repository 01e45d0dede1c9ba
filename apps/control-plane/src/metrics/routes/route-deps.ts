/**
 * What the metrics routes need from the rest of the control plane, passed in when the plugin is registered.
 */
import type { Client } from "@connectrpc/connect";
import type { hostagent } from "@wrenn/protocol";
import type { FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import type { MetricsTables } from "../tables.ts";

/** The one agent RPC the metrics routes call. */
export type CapsuleMetricsAgent = Pick<Client<typeof hostagent.HostAgentService>, "getCapsuleMetrics">;

/** A capsule as the metrics route needs it. */
export interface CapsuleRef {
  status: string;
  /** The agent of the capsule's host; called only for a running capsule (may throw `host_unavailable`). */
  agent(): CapsuleMetricsAgent | Promise<CapsuleMetricsAgent>;
}

/** Options of `metricsRoutes`. */
export interface MetricsRoutesOptions {
  db: Kysely<MetricsTables>;
  /** The caller's team id, as set by the auth hook of the scope the plugin is registered in. */
  teamIdOf(request: FastifyRequest): string;
  /** Looks a capsule up within a team; throws the API's 404 (or returns undefined) when it is not the team's. */
  findCapsule(capsuleId: string, teamId: string): Promise<CapsuleRef | undefined>;
  /** Maps an agent RPC failure to the API error (the control plane's Connect→HTTP table). Default: a minimal one. */
  agentError?(err: unknown): Error;
  /** Path prefix of the per-capsule route and its OpenAPI tags (admin capsules reuse it). Default `/v1/capsules`. */
  capsulesPath?: string;
  tags?: string[];
  /** Clock, for tests. Default `() => new Date()`. */
  now?(): Date;
}
