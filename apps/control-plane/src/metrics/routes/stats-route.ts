/** `GET /v1/capsules/stats?range=5m|1h|6h|24h|30d`: the team capacity chart data (reference §1.2, §6a). */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { getStatsBuckets, STATS_RANGES, toStatsSeries } from "../stats-series.ts";
import { getLiveMetrics, getPeakMetrics } from "../team-samples.ts";
import type { MetricsRoutesOptions } from "./route-deps.ts";

const int = z.number().int();

/** Response body; field names are the reference's. */
export const statsResponse = z.object({
  range: z.enum(STATS_RANGES),
  current: z.object({ running_count: int, vcpus_reserved: int, memory_mb_reserved: int }),
  peaks: z.object({ running_count: int, vcpus: int, memory_mb: int }),
  series: z.object({
    labels: z.array(z.string()),
    running: z.array(int),
    vcpus: z.array(int),
    memory_mb: z.array(int),
  }),
});

/** Registers the stats route. */
export function registerStatsRoute(app: FastifyInstance, opts: MetricsRoutesOptions): void {
  const now = opts.now ?? (() => new Date());
  app.withTypeProvider<ZodTypeProvider>().get(
    "/v1/capsules/stats",
    {
      schema: {
        summary: "Team capacity: live values, 30-day peaks and a bucketed series",
        tags: ["capsules"],
        querystring: z.object({ range: z.enum(STATS_RANGES).default("1h") }),
        response: { 200: statsResponse },
      },
    },
    async (request) => {
      const teamId = opts.teamIdOf(request);
      const { range } = request.query;
      const at = now();
      const [current, peaks, buckets] = await Promise.all([
        getLiveMetrics(opts.db, teamId),
        getPeakMetrics(opts.db, teamId, at),
        getStatsBuckets(opts.db, teamId, range, at),
      ]);
      return { range, current, peaks, series: toStatsSeries(buckets) };
    },
  );
}
