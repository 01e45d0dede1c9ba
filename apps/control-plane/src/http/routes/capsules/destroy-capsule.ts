import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";

/** DELETE /v1/capsules/{id}: destroys the VM; the capsule becomes `stopped`. */
export const destroyCapsuleRoute: Route = (app, s) => {
  app.delete(
    "/v1/capsules/:id",
    { schema: { tags: ["capsules"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.capsules.destroy(req.auth, req.auth.teamId, req.params.id);
      return reply.status(204).send(null);
    },
  );
};
