import type { Route } from "../../route.ts";
import { errorResponses, Host, IdParams } from "../../schemas.ts";

/** GET /v1/hosts/{id}. */
export const getHostRoute: Route = (app, s) => {
  app.get(
    "/v1/hosts/:id",
    { schema: { tags: ["hosts"], params: IdParams, response: { 200: Host, ...errorResponses } } },
    async (req) => s.hosts.get(req.auth, req.params.id),
  );
};
