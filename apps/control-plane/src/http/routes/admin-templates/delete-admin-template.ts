import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";

/**
 * DELETE /v1/admin/templates/{name}: removes a platform template from every online host and the database.
 * 403 for the seeded base images (`minimal`, `python`, `node`), 404 for a name that is not a platform template.
 */
export const deleteAdminTemplateRoute: Route = (app, s) => {
  app.delete(
    "/v1/admin/templates/:name",
    {
      schema: {
        tags: ["admin"],
        params: z.object({ name: z.string().min(1).max(200) }),
        response: { 204: z.null(), 502: errorResponses[500], 503: errorResponses[500], ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.snapshots.removePlatformTemplate(req.auth, req.params.name);
      return reply.status(204).send(null);
    },
  );
};
