import { z } from "zod";
import type { CallbackOutcome } from "../../../oauth/index.ts";
import type { Route } from "../../route.ts";
import { errorResponses } from "../../schemas.ts";
import { clearFlowCookies, LINK_COOKIE, STATE_COOKIE, setSessionCookies } from "./oauth-cookies.ts";
import { OAUTH_PREFIXES, ProviderParams } from "./start-oauth.ts";

/** Where the browser goes after a callback: the frontend's callback page, or settings after a link. */
export function callbackLocation(redirectUrl: string, provider: string, outcome: CallbackOutcome): string {
  const p = encodeURIComponent(provider);
  switch (outcome.kind) {
    case "signed_in":
      return `${redirectUrl}/auth/${p}/callback`;
    case "failed":
      return `${redirectUrl}/auth/${p}/callback?error=${outcome.code}`;
    case "linked":
      return `${redirectUrl}/dashboard/settings?connected=${p}`;
    case "link_failed":
      return `${redirectUrl}/dashboard/settings?connect_error=${outcome.code}`;
  }
}

/** GET /auth/oauth/{provider}/callback: exchange the code, then link, log in or register, and redirect. */
export const oauthCallbackRoute: Route = (app, s) => {
  for (const prefix of OAUTH_PREFIXES) {
    app.get(
      `${prefix}/:provider/callback`,
      {
        schema: {
          tags: ["auth"],
          description:
            "Redirects to `{OAUTH_REDIRECT_URL}/auth/{provider}/callback` with the session in `wrenn_oauth_*` cookies, " +
            "or with `?error=` (access_denied, invalid_state, missing_code, exchange_failed, no_account, email_taken, " +
            "account_deactivated, db_error). Linking redirects to `/dashboard/settings?connected=` or `?connect_error=`.",
          params: ProviderParams,
          querystring: z.object({
            code: z.string().max(2000).optional(),
            state: z.string().max(2000).optional(),
            error: z.string().max(2000).optional(),
          }),
          response: { 302: z.null().describe("redirect to the frontend"), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { provider } = req.params;
        const outcome = await s.oauth.callback(provider, {
          ...req.query,
          stateCookie: req.cookies[STATE_COOKIE],
          linkCookie: req.cookies[LINK_COOKIE],
        });
        clearFlowCookies(reply, s.oauth.isHttps);
        if (outcome.kind === "signed_in") setSessionCookies(reply, outcome.auth, outcome.isNewSignup, s.oauth.isHttps);
        return reply.redirect(callbackLocation(s.oauth.redirectUrl, provider, outcome), 302);
      },
    );
  }
};
