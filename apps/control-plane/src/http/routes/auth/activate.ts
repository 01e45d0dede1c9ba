import { z } from "zod";
import type { Route } from "../../route.ts";
import { AuthResponse, errorResponses } from "../../schemas.ts";

/** POST /v1/auth/activate: consumes the activation token, creates the default team, returns a JWT. */
export const activateRoute: Route = (app, s) => {
  app.post(
    "/v1/auth/activate",
    {
      schema: {
        tags: ["auth"],
        body: z.object({ token: z.string().min(1).max(256) }),
        response: { 200: AuthResponse, ...errorResponses },
      },
    },
    async (req) => s.auth.activate(req.body.token),
  );
};
