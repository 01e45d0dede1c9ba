import { z } from "zod";
import type { Route } from "../../route.ts";
import { ApiKey, errorResponses } from "../../schemas.ts";

/** GET /v1/api-keys: the team's keys (prefix only). */
export const listApiKeysRoute: Route = (app, s) => {
  app.get(
    "/v1/api-keys",
    { schema: { tags: ["api-keys"], response: { 200: z.array(ApiKey), ...errorResponses } } },
    async (req) => s.apiKeys.list(req.auth.teamId),
  );
};
