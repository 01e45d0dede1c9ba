/** GitHub OAuth app credentials and where GitHub lives (github.com, or a GitHub Enterprise server). */
export interface GitHubOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** Web base URL: `/login/oauth/authorize` and `/login/oauth/access_token` live here. */
  webUrl: string;
  /** REST API base URL: `/user` and `/user/emails` (GitHub Enterprise: `https://<host>/api/v3`). */
  apiUrl: string;
}

/** OAuth sign-in settings (reference §14). */
export interface OAuthConfig {
  /** Frontend base URL the callback redirects the browser to (`OAUTH_REDIRECT_URL`). */
  redirectUrl: string;
  /** Base URL the provider calls back: `<CP_PUBLIC_URL>/auth/oauth/<provider>/callback`. */
  publicUrl: string;
  /** Absent when `OAUTH_GITHUB_CLIENT_ID` is unset: GitHub sign-in is disabled. */
  github?: GitHubOAuthConfig;
}

/** The environment variables the OAuth settings are read from. */
export interface OAuthEnv {
  OAUTH_GITHUB_CLIENT_ID?: string;
  OAUTH_GITHUB_CLIENT_SECRET?: string;
  OAUTH_GITHUB_URL: string;
  OAUTH_GITHUB_API_URL: string;
  OAUTH_REDIRECT_URL?: string;
  CP_PUBLIC_URL?: string;
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

/**
 * Builds the OAuth settings, or lists what is wrong. GitHub calls back to `CP_PUBLIC_URL`, so it must be
 * set explicitly once GitHub is enabled: a guessed `http://localhost:8000` would only fail at GitHub.
 * `OAUTH_REDIRECT_URL` defaults to the API's own URL, where this control plane serves its dashboard.
 */
export function oauthConfigFromEnv(env: OAuthEnv, publicUrl: string): { config: OAuthConfig; problems: string[] } {
  const problems: string[] = [];
  const id = env.OAUTH_GITHUB_CLIENT_ID;
  if (id && !env.OAUTH_GITHUB_CLIENT_SECRET)
    problems.push("OAUTH_GITHUB_CLIENT_SECRET: required when OAUTH_GITHUB_CLIENT_ID is set");
  if (id && !env.CP_PUBLIC_URL)
    problems.push("CP_PUBLIC_URL: required when OAUTH_GITHUB_CLIENT_ID is set (GitHub calls back there)");
  const config: OAuthConfig = {
    redirectUrl: trimSlash(env.OAUTH_REDIRECT_URL ?? publicUrl),
    publicUrl: trimSlash(publicUrl),
    github:
      id && env.OAUTH_GITHUB_CLIENT_SECRET
        ? {
            clientId: id,
            clientSecret: env.OAUTH_GITHUB_CLIENT_SECRET,
            webUrl: trimSlash(env.OAUTH_GITHUB_URL),
            apiUrl: trimSlash(env.OAUTH_GITHUB_API_URL),
          }
        : undefined,
  };
  return { config, problems };
}
