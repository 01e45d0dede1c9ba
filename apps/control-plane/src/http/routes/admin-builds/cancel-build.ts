import { z } from "zod";
import type { Services } from "../../../services/container.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import type { App } from "../../types.ts";

/** POST /v1/admin/builds/{id}/cancel: 204; a pending build is skipped, a running one aborted. 409 once finished. */
export function cancelBuildRoute(app: App, s: Services): void {
  app.post(
    "/v1/admin/builds/:id/cancel",
    { schema: { tags: ["admin"], params: IdParams, response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      await s.builds.cancel(req.auth, req.params.id);
      return reply.status(204).send(null);
    },
  );
}
