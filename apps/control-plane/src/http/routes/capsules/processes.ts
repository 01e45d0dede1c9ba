import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import { TEAM_CAPSULES } from "./mount.ts";

/** `{id}` plus a process selector: a numeric PID or a tag. */
export const SelectorParams = z.object({ id: z.string().min(1).max(200), selector: z.string().min(1).max(128) });

/** GET /v1/capsules/{id}/processes: processes tracked by envd. */
export const listProcessesRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.get(
    `${at.base}/:id/processes`,
    {
      schema: {
        tags: at.tags ?? ["processes"],
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
export const killProcessRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.delete(
    `${at.base}/:id/processes/:selector`,
    {
      schema: {
        tags: at.tags ?? ["processes"],
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
