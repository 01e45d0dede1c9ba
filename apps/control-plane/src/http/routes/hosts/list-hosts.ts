import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses, Host } from "../../schemas.ts";

/** GET /v1/hosts: all hosts for admins, the team's BYOC hosts for others. */
export const listHostsRoute: Route = (app, s) => {
  app.get(
    "/v1/hosts",
    { schema: { tags: ["hosts"], response: { 200: z.array(Host), ...errorResponses } } },
    async (req) => s.hosts.list(req.auth),
  );
};
