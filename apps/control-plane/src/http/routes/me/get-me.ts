import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** GET /v1/me: the caller's profile. */
export const getMeRoute: Route = (app, s) => {
  app.get(
    "/v1/me",
    {
      schema: {
        tags: ["me"],
        response: {
          200: z.object({
            name: z.string(),
            email: z.string(),
            has_password: z.boolean(),
            providers: z.array(z.string()),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => s.users.me(req.auth),
  );
};
