import { z } from "zod";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { setFlowCookies } from "./oauth-cookies.ts";

/** The reference serves these without `/v1` and documents them with it; both answer. */
export const OAUTH_PREFIXES = ["/auth/oauth", "/v1/auth/oauth"] as const;

export const ProviderParams = z.object({ provider: z.string().min(1).max(50) });

/** GET /auth/oauth/{provider}: 302 to the provider's authorize page, with the signed `oauth_state` cookie. */
export const startOAuthRoute: Route = (app, s) => {
  for (const prefix of OAUTH_PREFIXES) {
    app.get(
      `${prefix}/:provider`,
      {
        schema: {
          tags: ["auth"],
          description: "Redirects to the provider. `intent=signup` may create an account; anything else only logs in.",
          params: ProviderParams,
          querystring: z.object({ intent: z.string().max(20).optional() }),
          response: { 302: z.null().describe("redirect to the provider"), ...errorResponses },
        },
      },
      async (req, reply) => {
        const flow = s.oauth.start(req.params.provider, req.query.intent === "signup" ? "signup" : "login");
        setFlowCookies(reply, flow, s.oauth.isHttps);
        return reply.redirect(flow.authUrl, 302);
      },
    );
  }
};
