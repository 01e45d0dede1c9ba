import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";

/** `{id}` plus a process selector: a numeric PID or a tag. */
export const SelectorParams = z.object({ id: z.string().min(1).max(200), selector: z.string().min(1).max(128) });

/** GET /v1/capsules/{id}/processes: processes tracked by envd. */
export const listProcessesRoute: Route = (app, s) => {
  app.get(
    "/v1/capsules/:id/processes",
    {
      schema: {
        tags: ["processes"],
        params: IdParams,
        response: {
          200: z.object({
            processes: z.array(
              z.object({ pid: z.number(), tag: z.string(), cmd: z.string(), args: z.array(z.string()) }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => s.ops.listProcesses(req.auth.teamId, req.params.id),
  );
};

/** DELETE /v1/capsules/{id}/processes/{selector}?signal=SIGKILL|SIGTERM. */
export const killProcessRoute: Route = (app, s) => {
  app.delete(
    "/v1/capsules/:id/processes/:selector",
    {
      schema: {
        tags: ["processes"],
        params: SelectorParams,
        querystring: z.object({ signal: z.enum(["SIGKILL", "SIGTERM"]).default("SIGKILL") }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.ops.killProcess(req.auth.teamId, req.params.id, req.params.selector, req.query.signal);
      return reply.status(204).send(null);
    },
  );
};
