/**
 * `GET /v1/capsules/{id}/metrics?range=…`: one capsule's CPU %, memory and disk series (reference §6c).
 * Running → read from the agent's ring buffers; paused → from the points stored at pause; other states → 404.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errors } from "../../errors.ts";
import { CAPSULE_METRIC_RANGES, fromWire, getCapsulePoints } from "../capsule-points.ts";
import type { MetricsRoutesOptions } from "./route-deps.ts";

/** Response body; `sandbox_id` is the reference's field name. */
export const capsuleMetricsResponse = z.object({
  sandbox_id: z.string(),
  range: z.enum(CAPSULE_METRIC_RANGES),
  points: z.array(
    z.object({ timestamp_unix: z.number().int(), cpu_pct: z.number(), mem_bytes: z.number(), disk_bytes: z.number() }),
  ),
});

/** Registers the per-capsule metrics route. */
export function registerCapsuleMetricsRoute(app: FastifyInstance, opts: MetricsRoutesOptions): void {
  const now = opts.now ?? (() => new Date());
  const agentError = opts.agentError ?? defaultAgentError;
  app.withTypeProvider<ZodTypeProvider>().get(
    `${opts.capsulesPath ?? "/v1/capsules"}/:id/metrics`,
    {
      schema: {
        summary: "CPU %, memory and disk of one capsule (running: live ring; paused: stored at pause)",
        tags: opts.tags ?? ["capsules"],
        params: z.object({ id: z.string().min(1) }),
        querystring: z.object({ range: z.enum(CAPSULE_METRIC_RANGES).default("10m") }),
        response: { 200: capsuleMetricsResponse },
      },
    },
    async (request) => {
      const teamId = opts.teamIdOf(request);
      const { id } = request.params;
      const { range } = request.query;
      const capsule = await opts.findCapsule(id, teamId);
      if (!capsule) throw errors.capsuleNotFound(id);
      if (capsule.status === "paused") {
        return { sandbox_id: id, range, points: await getCapsulePoints(opts.db, id, range, now()) };
      }
      if (capsule.status !== "running") throw errors.notFound(`metrics of capsule ${id} in state ${capsule.status}`);
      const agent = await capsule.agent();
      try {
        const res = await agent.getCapsuleMetrics({ capsuleId: id, range }, { signal: AbortSignal.timeout(10_000) });
        return { sandbox_id: id, range, points: fromWire(res.points) };
      } catch (err) {
        throw agentError(err);
      }
    },
  );
}

/** Minimal Connect→HTTP mapping (reference §1.1) used when the control plane does not pass its own. */
function defaultAgentError(err: unknown): Error {
  const ce = ConnectError.from(err);
  switch (ce.code) {
    case Code.NotFound:
      return errors.notFound(ce.rawMessage);
    case Code.InvalidArgument:
      return errors.invalidRequest(ce.rawMessage);
    case Code.Unavailable:
      return errors.noHostsAvailable();
    case Code.Unimplemented:
      return errors.agentError(501, ce.rawMessage);
    default:
      return errors.agentError(502, ce.rawMessage);
  }
}
