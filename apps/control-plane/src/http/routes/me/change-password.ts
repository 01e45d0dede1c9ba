import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** POST /v1/me/password: change the password (the current one is required when set). */
export const changePasswordRoute: Route = (app, s) => {
  app.post(
    "/v1/me/password",
    {
      schema: {
        tags: ["me"],
        body: z.object({
          current_password: z.string().max(256).optional(),
          new_password: z.string().min(8).max(256),
          confirm_password: z.string().max(256).optional(),
        }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.users.changePassword(req.auth, req.body);
      return reply.status(204).send(null);
    },
  );
};
