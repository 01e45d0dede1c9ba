import { z } from "zod";
import type { Services } from "../../../services/container.ts";
import { errorResponses, IdParams } from "../../schemas.ts";
import type { App } from "../../types.ts";
import { Build } from "./schemas.ts";

/** GET /v1/admin/builds (newest first) and GET /v1/admin/builds/{id}; progress shows while a build runs. */
export function readBuildRoutes(app: App, s: Services): void {
  app.get(
    "/v1/admin/builds",
    { schema: { tags: ["admin"], response: { 200: z.array(Build), ...errorResponses } } },
    async () => s.builds.list(),
  );
  app.get(
    "/v1/admin/builds/:id",
    { schema: { tags: ["admin"], params: IdParams, response: { 200: Build, ...errorResponses } } },
    async (req) => s.builds.get(req.params.id),
  );
}
