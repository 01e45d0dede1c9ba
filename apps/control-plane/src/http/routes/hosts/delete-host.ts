import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Host, IdParams } from "../../schemas.ts";

/** DELETE /v1/hosts/{id}?force=true: 409 with `sandbox_ids` while capsules are active, unless forced. */
export const deleteHostRoute: Route = (app, s) => {
  app.delete(
    "/v1/hosts/:id",
    {
      schema: {
        tags: ["hosts"],
        params: IdParams,
        querystring: z.object({ force: z.enum(["true", "false", "1", "0"]).optional() }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.hosts.remove(req.auth, req.params.id, req.query.force === "true" || req.query.force === "1");
      return reply.status(204).send(null);
    },
  );
};

/** GET /v1/hosts/{id}/delete-preview: the capsules a forced delete would destroy. */
export const deletePreviewRoute: Route = (app, s) => {
  app.get(
    "/v1/hosts/:id/delete-preview",
    {
      schema: {
        tags: ["hosts"],
        params: IdParams,
        response: { 200: z.object({ host: Host, sandbox_ids: z.array(z.string()) }), ...errorResponses },
      },
    },
    async (req) => s.hosts.deletePreview(req.auth, req.params.id),
  );
};
