import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** GET /v1/users/search?email=: email-prefix autocomplete for adding members. */
export const searchUsersRoute: Route = (app, s) => {
  app.get(
    "/v1/users/search",
    {
      schema: {
        tags: ["teams"],
        querystring: z.object({ email: z.string().max(254) }),
        response: { 200: z.array(z.object({ user_id: z.string(), email: z.string() })), ...errorResponses },
      },
    },
    async (req) => s.teams.searchUsers(req.query.email),
  );
};
