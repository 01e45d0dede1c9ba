import { z } from "zod";
import type { GitHubOAuthConfig } from "./oauth-config.ts";
import { OAuthExchangeError, type OAuthProfile, type OAuthProvider } from "./oauth-provider.ts";

/** Every call to GitHub gives up after this long (reference: 10 s HTTP client timeout). */
const GITHUB_TIMEOUT_MS = 10_000;

const TokenAnswer = z.object({ access_token: z.string().min(1) });
const UserAnswer = z.object({
  id: z.number().int(),
  login: z.string(),
  name: z.string().nullish(),
  email: z.string().nullish(),
});
const EmailsAnswer = z.array(z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }));

/** GitHub (or GitHub Enterprise) sign-in with scope `user:email`; `callbackUrl` is registered on the OAuth app. */
export function createGitHubProvider(config: GitHubOAuthConfig, callbackUrl: string): OAuthProvider {
  async function call<T>(what: string, schema: z.ZodType<T>, url: string, init: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(GITHUB_TIMEOUT_MS) });
    } catch (err) {
      throw new OAuthExchangeError(`GitHub ${what}: ${(err as Error).message}`, { cause: err });
    }
    const body: unknown = await res.json().catch(() => undefined);
    const parsed = schema.safeParse(body);
    if (!res.ok || !parsed.success) {
      // GitHub reports a bad or expired code as HTTP 200 with {"error": "bad_verification_code"}.
      const reason = (body as { error?: unknown } | undefined)?.error ?? `HTTP ${res.status}`;
      throw new OAuthExchangeError(`GitHub ${what} failed: ${String(reason)}`);
    }
    return parsed.data;
  }

  const api = <T>(what: string, schema: z.ZodType<T>, path: string, token: string) =>
    call(what, schema, `${config.apiUrl}${path}`, {
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${token}`,
        "user-agent": "wrenn-cp",
        "x-github-api-version": "2022-11-28",
      },
    });

  return {
    name: "github",

    authorizeUrl(state) {
      const q = new URLSearchParams({
        client_id: config.clientId,
        redirect_uri: callbackUrl,
        scope: "user:email",
        state,
      });
      return `${config.webUrl}/login/oauth/authorize?${q}`;
    },

    async exchange(code): Promise<OAuthProfile> {
      const { access_token } = await call("token exchange", TokenAnswer, `${config.webUrl}/login/oauth/access_token`, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          client_id: config.clientId,
          client_secret: config.clientSecret,
          code,
          redirect_uri: callbackUrl,
        }).toString(),
      });
      const user = await api("profile", UserAnswer, "/user", access_token);
      let email = user.email?.trim();
      if (!email) {
        // A private profile email: take the primary verified address (needs the user:email scope).
        const emails = await api("emails", EmailsAnswer, "/user/emails", access_token);
        email = emails.find((e) => e.primary && e.verified)?.email.trim();
      }
      if (!email) throw new OAuthExchangeError("GitHub account has no verified primary email");
      const name = (user.name?.trim() || user.login).slice(0, 100);
      return { providerId: String(user.id), email: email.toLowerCase(), name };
    },
  };
}
