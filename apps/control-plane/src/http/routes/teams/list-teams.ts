import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Team } from "../../schemas.ts";

/** GET /v1/teams: the caller's teams with their role. */
export const listTeamsRoute: Route = (app, s) => {
  app.get(
    "/v1/teams",
    { schema: { tags: ["teams"], response: { 200: z.array(Team.extend({ role: z.string() })), ...errorResponses } } },
    async (req) => s.teams.listForUser(req.auth.userId!),
  );
};
