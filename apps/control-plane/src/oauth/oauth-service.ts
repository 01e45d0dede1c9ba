import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Database } from "../db/schema.ts";
import { errors } from "../errors.ts";
import type { AuthService } from "../services/auth-service.ts";
import { createGitHubProvider } from "./github-provider.ts";
import type { OAuthConfig } from "./oauth-config.ts";
import { linkProvider, providersOf, unlinkProvider } from "./oauth-links.ts";
import { OAuthExchangeError, type OAuthProvider } from "./oauth-provider.ts";
import {
  OAuthCallbackError,
  type OAuthCallbackErrorCode,
  type SignInResult,
  signInWithProvider,
} from "./oauth-sign-in.ts";
import { newOAuthState, type OAuthIntent, signLinkUserId, verifyLinkUserId, verifyOAuthState } from "./oauth-state.ts";

/** Providers this control plane can speak to, enabled or not. */
const KNOWN_PROVIDERS = ["github"];

/** Dependencies of the OAuth service. */
export interface OAuthServiceDeps {
  db: Kysely<Database>;
  auth: AuthService;
  log: Logger;
  /** Signs the state and link cookies (the JWT secret, as in the reference). */
  hmacKey: string;
  config: OAuthConfig;
}

/** What the provider's redirect to the callback carried, query and cookies. */
export interface CallbackInput {
  code?: string;
  state?: string;
  /** Set by the provider when the user refused (or anything else went wrong on its side). */
  error?: string;
  stateCookie?: string;
  linkCookie?: string;
}

/** How a callback ended; the route turns it into a redirect and cookies. */
export type CallbackOutcome =
  | ({ kind: "signed_in" } & SignInResult)
  | { kind: "failed"; code: OAuthCallbackErrorCode }
  | { kind: "linked" }
  | { kind: "link_failed"; code: "already_linked" | "invalid_state" | "db_error" };

/** A started flow: where to send the browser and the cookies that let the callback trust its return. */
export interface StartedFlow {
  authUrl: string;
  stateCookie: string;
  /** Set when linking from the settings page. */
  linkCookie?: string;
}

/** GitHub sign-in, sign-up and account linking (reference §7 "GitHub OAuth"). */
export function createOAuthService(deps: OAuthServiceDeps) {
  const { db, log, hmacKey, config } = deps;
  const providers = new Map<string, OAuthProvider>();
  if (config.github) {
    providers.set("github", createGitHubProvider(config.github, `${config.publicUrl}/auth/oauth/github/callback`));
  }

  function provider(name: string): OAuthProvider {
    const p = providers.get(name);
    if (p) return p;
    if (KNOWN_PROVIDERS.includes(name)) throw errors.oauthProviderDisabled(name);
    throw errors.notFound(`OAuth provider ${name}`);
  }

  function begin(name: string, intent: OAuthIntent): StartedFlow {
    const p = provider(name);
    const { state, cookie } = newOAuthState(hmacKey, intent);
    return { authUrl: p.authorizeUrl(state), stateCookie: cookie };
  }

  async function link(name: string, linkCookie: string, code: string): Promise<CallbackOutcome> {
    const userId = verifyLinkUserId(hmacKey, linkCookie);
    if (!userId) return { kind: "link_failed", code: "invalid_state" };
    const profile = await provider(name).exchange(code);
    try {
      const result = await linkProvider(db, userId, name, profile);
      if (result === "already_linked") return { kind: "link_failed", code: "already_linked" };
      log.info({ userId, provider: name }, "OAuth provider linked");
      return { kind: "linked" };
    } catch (err) {
      log.error({ err, userId, provider: name }, "OAuth link failed");
      return { kind: "link_failed", code: "db_error" };
    }
  }

  return {
    /** Frontend base URL the callback redirects to. */
    redirectUrl: config.redirectUrl,
    /** Cookies are `Secure` when the API is served over HTTPS. */
    isHttps: config.publicUrl.startsWith("https:"),

    /** Starts sign-in or sign-up; unknown providers are 404, a disabled one says how to enable it. */
    start: begin,

    /** Starts linking `name` to the signed-in user (settings page). */
    connect(ctx: AuthContext, name: string): StartedFlow {
      return { ...begin(name, "login"), linkCookie: signLinkUserId(hmacKey, ctx.userId!) };
    },

    /**
     * Finishes a flow: checks the provider's verdict, the signed state and the code, exchanges the code,
     * then links (when the link cookie is present) or signs in. Every failure becomes an outcome, never a throw,
     * except an unknown provider.
     */
    async callback(name: string, input: CallbackInput): Promise<CallbackOutcome> {
      provider(name); // an unknown or disabled provider is a plain 404, not a redirect
      if (input.error) return { kind: "failed", code: "access_denied" };
      const intent = verifyOAuthState(hmacKey, input.stateCookie, input.state);
      if (!intent) return { kind: "failed", code: "invalid_state" };
      if (!input.code) return { kind: "failed", code: "missing_code" };
      try {
        if (input.linkCookie) return await link(name, input.linkCookie, input.code);
        const profile = await provider(name).exchange(input.code);
        return {
          kind: "signed_in",
          ...(await signInWithProvider({ db, auth: deps.auth, log }, name, profile, intent)),
        };
      } catch (err) {
        if (err instanceof OAuthExchangeError) {
          log.warn({ provider: name, reason: err.message }, "OAuth code exchange failed");
          return { kind: "failed", code: "exchange_failed" };
        }
        if (err instanceof OAuthCallbackError) {
          log.warn({ provider: name, code: err.code, reason: err.message }, "OAuth sign-in refused");
          return { kind: "failed", code: err.code };
        }
        log.error({ err, provider: name }, "OAuth sign-in failed");
        return { kind: "failed", code: "db_error" };
      }
    },

    providersOf: (userId: string) => providersOf(db, userId),

    /** `DELETE /v1/me/providers/{provider}`: 404 when not linked, 400 `last_login_method` when it is the only way in. */
    unlink(ctx: AuthContext, name: string): Promise<void> {
      if (!KNOWN_PROVIDERS.includes(name)) throw errors.notFound(`OAuth provider ${name}`);
      return unlinkProvider(db, ctx.userId!, name);
    },
  };
}

/** The OAuth service's public shape. */
export type OAuthService = ReturnType<typeof createOAuthService>;
