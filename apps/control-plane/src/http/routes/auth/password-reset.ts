import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** POST /v1/me/password/reset: emails a reset link; always 204. */
export const passwordResetRoute: Route = (app, s) => {
  app.post(
    "/v1/me/password/reset",
    {
      schema: {
        tags: ["auth"],
        body: z.object({ email: z.string().min(1).max(254) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.auth.requestPasswordReset(req.body.email);
      return reply.status(204).send(null);
    },
  );
};

/** POST /v1/me/password/reset/confirm: sets a new password with the emailed token. */
export const passwordResetConfirmRoute: Route = (app, s) => {
  app.post(
    "/v1/me/password/reset/confirm",
    {
      schema: {
        tags: ["auth"],
        body: z.object({ token: z.string().min(1).max(256), new_password: z.string().min(8).max(256) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.auth.confirmPasswordReset(req.body.token, req.body.new_password);
      return reply.status(204).send(null);
    },
  );
};
