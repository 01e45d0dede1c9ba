import { z } from "zod";
import type { Route } from "../../route.ts";
import { AuthResponse, errorResponses } from "../../schemas.ts";

/** POST /v1/auth/switch-team: re-issues the JWT for another team the user belongs to. */
export const switchTeamRoute: Route = (app, s) => {
  app.post(
    "/v1/auth/switch-team",
    {
      schema: {
        tags: ["auth"],
        body: z.object({ team_id: z.string().min(1).max(200) }),
        response: { 200: AuthResponse, ...errorResponses },
      },
    },
    async (req) => s.auth.switchTeam(req.auth.userId!, req.body.team_id),
  );
};
