import { z } from "zod";
import type { Route } from "../../route.ts";
import { ApiKey, errorResponses } from "../../schemas.ts";

/** POST /v1/api-keys: mints a key for the current team; the plaintext is shown only here. */
export const createApiKeyRoute: Route = (app, s) => {
  app.post(
    "/v1/api-keys",
    {
      schema: {
        tags: ["api-keys"],
        body: z.object({ name: z.string().max(100).optional() }).nullish(),
        response: { 201: ApiKey, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await s.apiKeys.create(req.auth, req.body?.name)),
  );
};
