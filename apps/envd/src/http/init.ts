import { EnvdError, errors } from "../errors.ts";
import type { EnvdState } from "../state.ts";
import type { HostIdentity } from "../system/host-identity.ts";
import { type RouteHandler, readBody, sendNoContent } from "./respond.ts";
import { headerOf } from "./router.ts";

/** The JSON body of POST /init (camelCase, every field optional). */
export interface InitBody {
  accessToken?: string;
  envVars?: Record<string, string>;
  defaultUser?: string;
  defaultWorkdir?: string;
  /** Host clock, unix ms. */
  timestamp?: number;
  /** Entropy for the kernel pool, base64 (≥ 32 bytes). */
  rngSeed?: string;
  hostname?: string;
  macAddress?: string;
}

function parseInit(raw: Buffer): InitBody {
  let body: unknown;
  try {
    body = raw.length === 0 ? {} : JSON.parse(raw.toString("utf8"));
  } catch {
    throw errors.invalidArgument("body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw errors.invalidArgument("body must be an object");
  const b = body as Record<string, unknown>;
  const str = (k: string) => {
    if (b[k] !== undefined && b[k] !== null && typeof b[k] !== "string")
      throw errors.invalidArgument(`${k} must be a string`);
    return (b[k] ?? undefined) as string | undefined;
  };
  if (b.timestamp !== undefined && b.timestamp !== null && typeof b.timestamp !== "number") {
    throw errors.invalidArgument("timestamp must be a number (unix ms)");
  }
  const envVars = b.envVars ?? undefined;
  if (envVars !== undefined && (typeof envVars !== "object" || Array.isArray(envVars))) {
    throw errors.invalidArgument("envVars must be an object");
  }
  for (const v of Object.values((envVars ?? {}) as object)) {
    if (typeof v !== "string") throw errors.invalidArgument("envVars values must be strings");
  }
  return {
    accessToken: str("accessToken"),
    envVars: envVars as Record<string, string> | undefined,
    defaultUser: str("defaultUser"),
    defaultWorkdir: str("defaultWorkdir"),
    timestamp: (b.timestamp ?? undefined) as number | undefined,
    rngSeed: str("rngSeed"),
    hostname: str("hostname"),
    macAddress: str("macAddress"),
  };
}

/**
 * POST /init: the host hands envd its access token, defaults and identity. The token may change only when
 * the request carries the current one (the router already refused any request without it once one is set).
 * Clock, RNG, hostname and MAC are applied only outside dev mode.
 */
export function createInitRoute(deps: { state: EnvdState; identity: HostIdentity }): RouteHandler {
  const { state, identity } = deps;
  return async ({ req, res, log }) => {
    const body = parseInit(await readBody(req));
    // The router let this request through, so it carries the current token (or none was set yet).
    if (state.hasToken && !state.isAuthorized(headerOf(req, "x-access-token"))) throw errors.unauthenticated();
    let seed: Buffer | undefined;
    if (body.rngSeed !== undefined) {
      seed = Buffer.from(body.rngSeed, "base64");
      if (seed.length === 0) throw new EnvdError("invalid_argument", "rngSeed must be non-empty base64");
    }
    if (body.envVars) for (const [k, v] of Object.entries(body.envVars)) state.envVars.set(k, v);
    if (body.defaultUser !== undefined) state.defaultUser = body.defaultUser || undefined;
    if (body.defaultWorkdir !== undefined) state.defaultWorkdir = body.defaultWorkdir || undefined;
    await identity.apply({
      timestampMs: body.timestamp,
      rngSeed: seed,
      hostname: body.hostname,
      macAddress: body.macAddress,
    });
    if (body.accessToken !== undefined) state.setToken(body.accessToken);
    log.info(
      { hasToken: state.hasToken, envVars: Object.keys(body.envVars ?? {}).length, defaultUser: state.defaultUser },
      "init applied",
    );
    sendNoContent(res);
  };
}
