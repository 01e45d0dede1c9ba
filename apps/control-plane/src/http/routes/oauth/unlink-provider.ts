import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { ProviderParams } from "./start-oauth.ts";

/** DELETE /v1/me/providers/{provider}: unlink; 400 `last_login_method` when it is the only way to sign in. */
export const unlinkProviderRoute: Route = (app, s) => {
  app.delete(
    "/v1/me/providers/:provider",
    {
      schema: {
        tags: ["me"],
        params: ProviderParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await s.oauth.unlink(req.auth, req.params.provider);
      return reply.status(204).send(null);
    },
  );
};
