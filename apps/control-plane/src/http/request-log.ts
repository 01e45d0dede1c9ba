import type { FastifyInstance } from "fastify";

/**
 * One line per answered request, replacing Fastify's two (incoming + completed). Successful reads are `debug`, so
 * a busy API does not spend its time logging polls; other successes are `info`. Failures are logged by the error
 * handler (`warn` for 4xx, `error` for 5xx) with their reason, so they are not repeated here.
 */
export function installRequestLog(app: FastifyInstance): void {
  app.addHook("onResponse", async (req, reply) => {
    const status = reply.statusCode;
    if (status >= 400) return;
    const level = req.method === "GET" || req.method === "HEAD" ? "debug" : "info";
    if (!(req.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level)) return;
    req.log[level](
      {
        method: req.method,
        route: req.routeOptions.url,
        status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        teamId: req.auth?.teamId,
      },
      "request completed",
    );
  });
}
