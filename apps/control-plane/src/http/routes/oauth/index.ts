import cookie from "@fastify/cookie";
import type { Services } from "../../../services/container.ts";
import { requireAuth } from "../../auth-hooks.ts";
import { registerRoutes } from "../../route.ts";
import type { App } from "../../types.ts";
import { connectProviderRoute } from "./connect-provider.ts";
import { oauthCallbackRoute } from "./oauth-callback.ts";
import { startOAuthRoute } from "./start-oauth.ts";
import { unlinkProviderRoute } from "./unlink-provider.ts";

/** OAuth sign-in (public) and linked providers under /v1/me/providers (user JWT). Cookies are parsed here only. */
export async function oauthRoutes(app: App, opts: { s: Services }) {
  await app.register(cookie);
  registerRoutes(app, opts.s, [startOAuthRoute, oauthCallbackRoute]);
  await app.register(async (scope: App) => {
    requireAuth(scope, opts.s.authn, { apiKey: false });
    registerRoutes(scope, opts.s, [connectProviderRoute, unlinkProviderRoute]);
  });
}
