import { z } from "zod";
import type { Route } from "../../route.ts";
import { AuthResponse, errorResponses } from "../../schemas.ts";

/** PATCH /v1/me: rename; returns a fresh JWT carrying the new name. */
export const updateMeRoute: Route = (app, s) => {
  app.patch(
    "/v1/me",
    {
      schema: {
        tags: ["me"],
        body: z.object({ name: z.string().trim().min(1).max(100) }),
        response: { 200: AuthResponse, ...errorResponses },
      },
    },
    async (req) => s.users.rename(req.auth, req.body.name),
  );
};
