import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/** DELETE /v1/snapshots/{name}: removes a team template from every online host; 403 for platform templates. */
export const deleteSnapshotRoute: Route = (app, s) => {
  app.delete(
    "/v1/snapshots/:name",
    {
      schema: {
        tags: ["snapshots"],
        params: z.object({ name: z.string().min(1).max(200) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.snapshots.remove(req.auth, req.params.name);
      return reply.status(204).send(null);
    },
  );
};
