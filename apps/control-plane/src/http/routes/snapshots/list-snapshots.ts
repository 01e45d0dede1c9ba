import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Template } from "../../schemas.ts";

/** GET /v1/snapshots?type=base|snapshot: the platform's base templates and the team's own. */
export const listSnapshotsRoute: Route = (app, s) => {
  app.get(
    "/v1/snapshots",
    {
      schema: {
        tags: ["snapshots"],
        querystring: z.object({ type: z.enum(["base", "snapshot"]).optional() }),
        response: { 200: z.array(Template), ...errorResponses },
      },
    },
    async (req) => s.snapshots.list(req.auth.teamId, req.query.type),
  );
};
