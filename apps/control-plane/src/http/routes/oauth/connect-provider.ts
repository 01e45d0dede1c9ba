import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { setFlowCookies } from "./oauth-cookies.ts";
import { ProviderParams } from "./start-oauth.ts";

/** GET /v1/me/providers/{provider}/connect: the authorize URL for linking, plus the state and link cookies. */
export const connectProviderRoute: Route = (app, s) => {
  app.get(
    "/v1/me/providers/:provider/connect",
    {
      schema: {
        tags: ["me"],
        params: ProviderParams,
        response: { 200: z.object({ auth_url: z.string() }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const flow = s.oauth.connect(req.auth, req.params.provider);
      setFlowCookies(reply, flow, s.oauth.isHttps);
      return { auth_url: flow.authUrl };
    },
  );
};
