import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";

/** DELETE /v1/api-keys/{id}: revokes a key of the current team. */
export const deleteApiKeyRoute: Route = (app, s) => {
  app.delete(
    "/v1/api-keys/:id",
    { schema: { tags: ["api-keys"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.apiKeys.revoke(req.auth, req.params.id);
      return reply.status(204).send(null);
    },
  );
};
