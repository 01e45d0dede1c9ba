import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import { TEAM_CAPSULES } from "./mount.ts";

/** DELETE /v1/capsules/{id}: destroys the VM; the capsule becomes `stopped`. */
export const destroyCapsuleRoute: Route = (app, s, at = TEAM_CAPSULES) => {
  app.delete(
    `${at.base}/:id`,
    { schema: { tags: at.tags ?? ["capsules"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.capsules.destroy(req.auth, req.auth.teamId, req.params.id);
      return reply.status(204).send(null);
    },
  );
};
