/** `GET /v1/capsules/usage?from&to`: daily vCPU-minutes and RAM-MB-minutes (reference §1.2, §6b). */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errors } from "../../errors.ts";
import { addDays, daysBetween, getDailyUsage, utcDay } from "../daily-usage.ts";
import type { MetricsRoutesOptions } from "./route-deps.ts";

/** Longest span `to − from` accepted, in days (the reference's check). */
export const MAX_USAGE_SPAN_DAYS = 92;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD")
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && utcDay(new Date(`${s}T00:00:00Z`)) === s, {
    message: "must be a real date (YYYY-MM-DD)",
  });

/** Response body. */
export const usageResponse = z.object({
  from: z.string(),
  to: z.string(),
  points: z.array(z.object({ date: z.string(), cpu_minutes: z.number(), ram_mb_minutes: z.number() })),
});

/** Registers the usage route. */
export function registerUsageRoute(app: FastifyInstance, opts: MetricsRoutesOptions): void {
  const now = opts.now ?? (() => new Date());
  app.withTypeProvider<ZodTypeProvider>().get(
    "/v1/capsules/usage",
    {
      schema: {
        summary: "Daily CPU-minutes and RAM-MB-minutes; default the last 30 days including today",
        tags: ["capsules"],
        querystring: z.object({ from: isoDate.optional(), to: isoDate.optional() }),
        response: { 200: usageResponse },
      },
    },
    async (request) => {
      const teamId = opts.teamIdOf(request);
      const at = now();
      const today = utcDay(at);
      const from = request.query.from ?? addDays(today, -29);
      const to = request.query.to ?? today;
      if (from > to) throw errors.invalidRequest("from must be before or equal to to");
      if (daysBetween(from, to) > MAX_USAGE_SPAN_DAYS) {
        throw errors.invalidRequest(`range cannot exceed ${MAX_USAGE_SPAN_DAYS} days`);
      }
      return { from, to, points: await getDailyUsage(opts.db, teamId, from, to, at) };
    },
  );
}
