import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** DELETE /v1/me: soft-deletes the account; `confirmation` must equal the email. */
export const deleteMeRoute: Route = (app, s) => {
  app.delete(
    "/v1/me",
    {
      schema: {
        tags: ["me"],
        body: z.object({ confirmation: z.string().max(254) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.users.deleteMe(req.auth, req.body.confirmation);
      return reply.status(204).send(null);
    },
  );
};
