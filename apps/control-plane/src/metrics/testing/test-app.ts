/**
 * A Fastify app for route tests of the metrics plugin: zod compilers, the API's error body, and the caller's team
 * taken from an `x-test-team` header (the control plane's auth hook does this for real).
 */
import Fastify, { type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { WrennError } from "../../errors.ts";
import { metricsRoutes } from "../routes/index.ts";
import type { MetricsRoutesOptions } from "../routes/route-deps.ts";

/** Builds the app; `opts` overrides the defaults (team from the header). */
export async function buildTestApp(
  opts: Omit<MetricsRoutesOptions, "teamIdOf"> & Partial<Pick<MetricsRoutesOptions, "teamIdOf">>,
  before?: (app: FastifyInstance) => Promise<void>,
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof WrennError) {
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    }
    if ((err as { validation?: unknown }).validation !== undefined) {
      return reply.code(400).send({ error: { code: "invalid_request", message: (err as Error).message } });
    }
    return reply.code(500).send({ error: { code: "internal_error", message: "internal server error" } });
  });
  if (before) await before(app);
  await app.register(metricsRoutes, {
    teamIdOf: (req) => String(req.headers["x-test-team"] ?? ""),
    ...opts,
  });
  await app.ready();
  return app;
}
