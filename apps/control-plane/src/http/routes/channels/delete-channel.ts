import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";

/** DELETE /v1/channels/{id}. */
export const deleteChannelRoute: Route = (app, s) => {
  app.delete(
    "/v1/channels/:id",
    { schema: { tags: ["channels"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.channels.remove(req.auth, req.params.id);
      return reply.status(204).send(null);
    },
  );
};
