import { z } from "zod";
import type { Route } from "../../route.ts";
import { AuthResponse, errorResponses } from "../../schemas.ts";

/** POST /v1/auth/login: email and password → JWT scoped to the default team. */
export const loginRoute: Route = (app, s) => {
  app.post(
    "/v1/auth/login",
    {
      schema: {
        tags: ["auth"],
        body: z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(256) }),
        response: { 200: AuthResponse, ...errorResponses },
      },
    },
    async (req) => s.auth.login(req.body.email, req.body.password),
  );
};
