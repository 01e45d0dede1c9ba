import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams, Member, Team } from "../../schemas.ts";

/** GET /v1/teams/{id}: the current team and its members. */
export const getTeamRoute: Route = (app, s) => {
  app.get(
    "/v1/teams/:id",
    {
      schema: {
        tags: ["teams"],
        params: IdParams,
        response: { 200: z.object({ team: Team, members: z.array(Member) }), ...errorResponses },
      },
    },
    async (req) => s.teams.get(req.auth, req.params.id),
  );
};
