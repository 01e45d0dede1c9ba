import type { CookieSerializeOptions } from "@fastify/cookie";
import type { FastifyReply } from "fastify";
import type { StartedFlow } from "../../../oauth/index.ts";
import type { AuthResponse } from "../../../services/auth-service.ts";

export const STATE_COOKIE = "oauth_state";
export const LINK_COOKIE = "oauth_link_user_id";

/** The flow cookies outlive the trip to the provider and back: 10 minutes, never readable by scripts. */
const flowCookie = (secure: boolean): CookieSerializeOptions => ({
  path: "/",
  maxAge: 600,
  httpOnly: true,
  sameSite: "lax",
  secure,
});

/** Sets `oauth_state` (and `oauth_link_user_id` when linking; a stale one from an abandoned link is dropped). */
export function setFlowCookies(reply: FastifyReply, flow: StartedFlow, secure: boolean): void {
  reply.setCookie(STATE_COOKIE, flow.stateCookie, flowCookie(secure));
  if (flow.linkCookie) reply.setCookie(LINK_COOKIE, flow.linkCookie, flowCookie(secure));
  else reply.clearCookie(LINK_COOKIE, flowCookie(secure));
}

/** A state is good for one callback: both flow cookies go on every return from the provider. */
export function clearFlowCookies(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(STATE_COOKIE, flowCookie(secure));
  reply.clearCookie(LINK_COOKIE, flowCookie(secure));
}

/**
 * Hands the session to the frontend's `/auth/<provider>/callback` page in cookies rather than the URL (which
 * lands in history and logs): readable by its scripts, scoped to `/auth/`, gone after 60 seconds.
 */
export function setSessionCookies(
  reply: FastifyReply,
  auth: AuthResponse,
  isNewSignup: boolean,
  secure: boolean,
): void {
  const opts: CookieSerializeOptions = { path: "/auth/", maxAge: 60, httpOnly: false, sameSite: "lax", secure };
  reply.setCookie("wrenn_oauth_token", auth.token, opts);
  reply.setCookie("wrenn_oauth_user_id", auth.user_id, opts);
  reply.setCookie("wrenn_oauth_team_id", auth.team_id, opts);
  reply.setCookie("wrenn_oauth_email", auth.email, opts);
  reply.setCookie("wrenn_oauth_name", auth.name, opts);
  if (isNewSignup) reply.setCookie("wrenn_oauth_new_signup", "1", opts);
}
