import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Host, IdParams } from "../../schemas.ts";

/** POST /v1/hosts/{id}/token: a new registration token for a still-pending host. */
export const regenerateTokenRoute: Route = (app, s) => {
  app.post(
    "/v1/hosts/:id/token",
    {
      schema: {
        tags: ["hosts"],
        params: IdParams,
        response: { 201: z.object({ host: Host, registration_token: z.string() }), ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.hosts.regenerateToken(req.auth, req.params.id)),
  );
};
