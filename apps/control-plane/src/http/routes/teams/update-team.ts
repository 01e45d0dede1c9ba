import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import { TeamName } from "./create-team.ts";

/** PATCH /v1/teams/{id}: rename (owner or admin). */
export const updateTeamRoute: Route = (app, s) => {
  app.patch(
    "/v1/teams/:id",
    {
      schema: {
        tags: ["teams"],
        params: IdParams,
        body: z.object({ name: TeamName }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.teams.rename(req.auth, req.params.id, req.body.name);
      return reply.status(204).send(null);
    },
  );
};
