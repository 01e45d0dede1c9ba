import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";

/** DELETE /v1/teams/{id}: soft-deletes the team and stops its capsules (owner only). */
export const deleteTeamRoute: Route = (app, s) => {
  app.delete(
    "/v1/teams/:id",
    { schema: { tags: ["teams"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.teams.remove(req.auth, req.params.id);
      return reply.status(204).send(null);
    },
  );
};
