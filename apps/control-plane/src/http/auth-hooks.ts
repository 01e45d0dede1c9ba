import type { FastifyRequest } from "fastify";
import type { AuthContext } from "../auth/auth-context.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { errors } from "../errors.ts";
import type { App } from "./types.ts";

/** Which credentials a scope accepts. */
export interface AuthPolicy {
  /** Accept `X-API-Key` (capsule and snapshot routes only, as in the reference). */
  apiKey: boolean;
  /** Require a platform admin (user JWT plus `users.is_admin`). */
  admin?: boolean;
}

/** Reads `X-API-Key` or `Authorization: Bearer`; undefined when neither header is present. */
export async function credentialsFromHeaders(
  req: FastifyRequest,
  authn: Authenticator,
  apiKeyAllowed: boolean,
): Promise<AuthContext | undefined> {
  const key = req.headers["x-api-key"];
  if (typeof key === "string" && key !== "") {
    if (!apiKeyAllowed) throw errors.unauthorized("this route needs a user token (Authorization: Bearer)");
    return authn.apiKey(key);
  }
  const h = req.headers.authorization;
  if (typeof h === "string" && h !== "") {
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m?.[1]) throw errors.unauthorized("malformed Authorization header");
    return authn.jwt(m[1].trim());
  }
  return undefined;
}

/**
 * Adds an onRequest hook to the (encapsulated) scope that authenticates every request before
 * its body is read, so an unauthenticated upload is refused without being received.
 */
export function requireAuth(app: App, authn: Authenticator, policy: AuthPolicy): void {
  app.addHook("onRequest", async (req) => {
    const ctx = await credentialsFromHeaders(req, authn, policy.apiKey);
    if (!ctx) throw errors.unauthorized();
    if (policy.admin && !ctx.isAdmin) throw errors.forbidden("platform admin only");
    // No child logger per request (it costs more than the lookup): the request and error logs add teamId.
    req.auth = ctx;
  });
}

/** Throws 403 unless the caller is a user with one of `roles` in the current team. */
export function requireRole(ctx: AuthContext, roles: ReadonlyArray<string>): void {
  if (ctx.kind !== "user" || !ctx.role || !roles.includes(ctx.role)) {
    throw errors.forbidden(`requires role ${roles.join(" or ")}`);
  }
}
